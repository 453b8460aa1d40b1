package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"
)

// The README's "Switching from the ACK add-on" steps, checked against the repository: every file
// they apply exists, and their Deployment patches apply to deploy/deployment.yaml and give the
// controller flags it parses, with the meaning the steps say. (TestMigrateFromAddon runs the same
// steps against the real kube-apiserver.)
func TestREADMEMigrationSteps(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	must(t, err)
	text := string(readme)
	start := strings.Index(text, "### Switching from the ACK add-on")
	if start < 0 {
		t.Fatal("README has no migration section")
	}
	section := text[start:]
	if end := strings.Index(section[4:], "\n**Figures**"); end > 0 {
		section = section[:end+4]
	}
	for _, m := range regexp.MustCompile(`-f (controller/deploy/[a-z-]*/?)`).FindAllStringSubmatch(section, -1) {
		files, _ := filepath.Glob(filepath.Join("..", m[1], "*.yaml"))
		if st, err := os.Stat(filepath.Join("..", m[1])); err != nil || !st.IsDir() || len(files) == 0 {
			t.Errorf("the README applies %s, which holds no manifests", m[1])
		}
	}
	patches := regexp.MustCompile(`(?s)-p='(\[.*?\])'`).FindAllStringSubmatch(section, -1)
	if len(patches) != 2 {
		t.Fatalf("%d Deployment patches in the steps, want 2 (switch, then drop the flag)", len(patches))
	}
	dep, err := os.ReadFile("deploy/deployment.yaml")
	must(t, err)
	doc, err := yaml.YAMLToJSON(dep)
	must(t, err)
	apply := func(doc []byte, patch string) (*appsv1.Deployment, options, []byte) {
		t.Helper()
		p, err := jsonpatch.DecodePatch([]byte(patch))
		must(t, err)
		out, err := p.Apply(doc)
		must(t, err)
		var d appsv1.Deployment
		must(t, json.Unmarshal(out, &d))
		o := defaultOptions()
		must(t, newFlagSet(&o).Parse(d.Spec.Template.Spec.Containers[0].Args))
		return &d, o, out
	}
	d, o, doc := apply(doc, patches[0][1])
	if d.Spec.Template.Spec.ServiceAccountName != addonSA || o.AddonConfigMap != "kube-system/acr-configuration" || !o.AdoptAddonSecrets || o.Namespace != ctrlNS {
		t.Errorf("after step 2: service account %q, --addon-configmap %q, --adopt-addon-secrets %v, --namespace %q",
			d.Spec.Template.Spec.ServiceAccountName, o.AddonConfigMap, o.AdoptAddonSecrets, o.Namespace)
	}
	_, o, _ = apply(doc, patches[1][1])
	if o.AdoptAddonSecrets || o.AddonConfigMap != "kube-system/acr-configuration" {
		t.Errorf("after step 4: --adopt-addon-secrets %v, --addon-configmap %q", o.AdoptAddonSecrets, o.AddonConfigMap)
	}
	checkPodsStillNamingAddonSecrets(t, section)
}

// checkPodsStillNamingAddonSecrets runs step 4's look at the pods as kubectl does (its JSONPath
// printer evaluates the template on the object's JSON with client-go's jsonpath; grep -E is RE2
// enough for this pattern): it names the pods that name an add-on Secret, and no other.
func checkPodsStillNamingAddonSecrets(t *testing.T, section string) {
	m := regexp.MustCompile(`kubectl get pods -A -o jsonpath='([^']*)' \| grep -E '([^']*)'`).FindStringSubmatch(section)
	if m == nil {
		t.Fatal("step 4 has no look at the pods that still name an add-on Secret")
	}
	pod := func(ns, name string, pull ...string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		for _, s := range pull {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return p
	}
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: []corev1.Pod{
		pod("mig-a", "direct-1", workloadSecret),
		pod("mig-a", "copied-1", secretName, addonSecret),
		pod("mig-a", "new-1", secretName),
		pod("other", "none-1"),
		pod("other", "lookalike-1", "acr-credential-not-the-add-on"),
	}}
	raw, err := json.Marshal(list)
	must(t, err)
	var obj any
	must(t, json.Unmarshal(raw, &obj))
	jp := jsonpath.New("out").AllowMissingKeys(true)
	must(t, jp.Parse(m[1]))
	var out bytes.Buffer
	must(t, jp.Execute(&out, obj))
	grep := regexp.MustCompile(m[2])
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if grep.MatchString(line) {
			got = append(got, line)
		}
	}
	want := []string{"mig-a/direct-1: " + workloadSecret, "mig-a/copied-1: " + secretName + " " + addonSecret}
	if !slices.Equal(got, want) {
		t.Errorf("step 4's look at the pods prints %q, want %q (the whole output: %q)", got, want, out.String())
	}
}
