package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

// The chart's controller part mirrors controller/deploy: rendered as release "acr-credential" in
// kube-system, its objects carry controller/deploy's names, and what decides what the controller
// may do and when it is called (RBAC rules and bindings, the admission policy's CEL, the webhook's
// rules and client) must be identical, so that the two cannot drift apart.

// parityFields are the fields compared per kind (labels differ: the chart's carry the release).
var parityFields = map[string][][]string{
	"ClusterRole":                      {{"rules"}},
	"Role":                             {{"rules"}},
	"ValidatingAdmissionPolicy":        {{"spec"}},
	"ValidatingAdmissionPolicyBinding": {{"spec"}},
	"MutatingWebhookConfiguration":     {{"webhooks"}},
	"Service":                          {{"spec", "ports"}},
	"ClusterRoleBinding":               {{"roleRef"}},
	"RoleBinding":                      {{"roleRef"}},
	"ServiceAccount":                   nil,
}

func deployObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("deploy", file))
	if err != nil {
		t.Fatal(err)
	}
	return splitObjects(t, data)
}

func objKey(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// checkParity compares each object of controller/deploy's files with the chart's object of the
// same kind, namespace and name (rename maps a deploy name to the chart's).
func checkParity(t *testing.T, chart []*unstructured.Unstructured, rename func(string) string, files ...string) {
	t.Helper()
	byKey := map[string]*unstructured.Unstructured{}
	for _, o := range chart {
		byKey[objKey(o)] = o
	}
	for _, f := range files {
		for _, d := range deployObjects(t, f) {
			fields, ok := parityFields[d.GetKind()]
			if !ok {
				continue // Deployment, ConfigMap: checked below
			}
			name := rename(d.GetName())
			if pn, ok, _ := unstructured.NestedString(d.Object, "spec", "policyName"); ok {
				_ = unstructured.SetNestedField(d.Object, rename(pn), "spec", "policyName")
			}
			key := d.GetKind() + " " + d.GetNamespace() + "/" + name
			c := byKey[key]
			if c == nil {
				t.Errorf("%s: %s has no counterpart in the chart (%s)", f, objKey(d), key)
				continue
			}
			for _, path := range fields {
				dv, _, _ := unstructured.NestedFieldNoCopy(d.Object, path...)
				cv, _, _ := unstructured.NestedFieldNoCopy(c.Object, path...)
				if dv == nil || !reflect.DeepEqual(dv, cv) {
					t.Errorf("%s: %s .%s differs from the chart's:\n deploy: %v\n chart:  %v", f, objKey(d), strings.Join(path, "."), dv, cv)
				}
			}
			if strings.HasSuffix(d.GetKind(), "Binding") && d.GetKind() != "ValidatingAdmissionPolicyBinding" {
				ds, _, _ := unstructured.NestedSlice(d.Object, "subjects")
				cs, _, _ := unstructured.NestedSlice(c.Object, "subjects")
				if len(cs) == 0 {
					t.Errorf("%s: the chart's %s binds nobody", f, key)
				}
				for _, s := range cs {
					if !slices.ContainsFunc(ds, func(x any) bool { return reflect.DeepEqual(x, s) }) {
						t.Errorf("%s: the chart's %s binds %v, which controller/deploy does not (%v)", f, key, s, ds)
					}
				}
			}
		}
	}
}

func renderObjects(t *testing.T, helm string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := renderRelease(t, helm, "acr-credential", "", append([]string{"node.enabled=false", "controller.enabled=true"}, set...)...)
	if err != nil {
		t.Fatal(err)
	}
	return splitObjects(t, out)
}

func TestHelmChartControllerMatchesDeploy(t *testing.T) {
	helm := helmBinary(t)
	same := func(n string) string { return n }

	// deploy/ with the webhook, the add-on's ConfigMap and the migration grant.
	full := renderObjects(t, helm, "controller.webhook.enabled=true", "controller.adoptAddonSecrets=true",
		"controller.addonConfigMap=kube-system/acr-configuration")
	checkParity(t, full, same, "serviceaccount.yaml", "rbac.yaml", "policy.yaml", "webhook/webhook.yaml", "migration/rbac.yaml")

	// Per-namespace RBAC: the RoleBinding in NAMESPACE, as deploy/namespaced/ writes it.
	checkParity(t, renderObjects(t, helm, "controller.namespacedRBAC=true", "controller.config.watchNamespace=NAMESPACE"),
		same, "namespaced/rbac.yaml")

	// The add-on's identity: deploy/addon-identity/ names its objects <name>-addon-identity; the
	// chart names the service account and everything follows it.
	addon := renderObjects(t, helm, "controller.serviceAccount.name=aliyun-acr-credential-helper", "controller.addonConfigMap=kube-system/acr-configuration")
	checkParity(t, addon, func(n string) string { return strings.TrimSuffix(n, "-addon-identity") }, "addon-identity/addon-identity.yaml")

	// The Deployment: the same ports, pod and container security, probes.
	var dep, chartDep *unstructured.Unstructured
	for _, o := range deployObjects(t, "deployment.yaml") {
		dep = o
	}
	for _, o := range full {
		if o.GetKind() == "Deployment" {
			chartDep = o
		}
	}
	if dep == nil || chartDep == nil {
		t.Fatal("no Deployment")
	}
	for _, path := range [][]string{{"spec", "template", "spec", "securityContext"}} {
		dv, _, _ := unstructured.NestedFieldNoCopy(dep.Object, path...)
		cv, _, _ := unstructured.NestedFieldNoCopy(chartDep.Object, path...)
		if !reflect.DeepEqual(dv, cv) {
			t.Errorf("Deployment .%s: deploy %v, chart %v", strings.Join(path, "."), dv, cv)
		}
	}
	container := func(d *unstructured.Unstructured) map[string]any {
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		return cs[0].(map[string]any)
	}
	dc, cc := container(dep), container(chartDep)
	for _, k := range []string{"ports", "livenessProbe", "readinessProbe", "securityContext"} {
		if !reflect.DeepEqual(dc[k], cc[k]) {
			t.Errorf("Deployment container .%s: deploy %v, chart %v", k, dc[k], cc[k])
		}
	}
	args, _, _ := unstructured.NestedStringSlice(cc, "args")
	for _, a := range []string{"--addon-configmap=kube-system/acr-configuration", "--webhook", "--adopt-addon-secrets", "--metrics-addr=127.0.0.1:8081",
		"--webhook-service=acr-credential-controller-webhook", "--webhook-configuration=acr-credential-controller", "--webhook-cert-secret=acr-credential-controller-webhook-tls"} {
		if !slices.Contains(args, a) {
			t.Errorf("the chart's controller args %v lack %s", args, a)
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--config=") }) {
		t.Errorf("with controller.addonConfigMap the args still name --config: %v", args)
	}

	// The check can fail: a chart whose policy names another account differs.
	other := renderObjects(t, helm, "controller.serviceAccount.name=someone-else")
	var vap *unstructured.Unstructured
	for _, o := range other {
		if o.GetKind() == "ValidatingAdmissionPolicy" {
			vap = o
		}
	}
	want := deployObjects(t, "policy.yaml")[0]
	if vap == nil || reflect.DeepEqual(want.Object["spec"], vap.Object["spec"]) {
		t.Error("the policy for another service account compares equal to controller/deploy's: the parity check cannot fail")
	}
	if m, _, _ := unstructured.NestedSlice(vap.Object, "spec", "matchConditions"); !strings.Contains(m[0].(map[string]any)["expression"].(string), "'system:serviceaccount:kube-system:someone-else'") {
		t.Errorf("the policy does not follow controller.serviceAccount.name: %v", m)
	}
}

// TestHelmChartControllerConfigLoads: the config file the chart writes for the controller is one
// the controller's own loader accepts, and the webhook values reach it (the controller keeps the
// webhook configuration's failure policy and timeout as its config says).
func TestHelmChartControllerConfigLoads(t *testing.T) {
	helm := helmBinary(t)
	out, err := renderChart(t, helm, filepath.Join(chartDir, "ci", "controller-webhook-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range splitObjects(t, out) {
		if o.GetKind() != "ConfigMap" || o.GetName() != "acr-controller" {
			continue
		}
		n++
		data, _, _ := unstructured.NestedString(o.Object, "data", "config.yaml")
		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadFile(p, func(string) string { return "" })
		if err != nil {
			t.Fatalf("the controller refuses the chart's config: %v\n%s", err, data)
		}
		w := cfg.Cluster.WebhookSettings()
		if !w.Enable || w.FailurePolicy != "Fail" || w.TimeoutSeconds != 5 {
			t.Errorf("webhook settings from the chart's config: %+v, want enabled, Fail, 5", w)
		}
		if got := cfg.Cluster.Namespaces(); !reflect.DeepEqual(got, []string{"all"}) {
			t.Errorf("watch set %v", got)
		}
	}
	if n != 1 {
		t.Fatalf("%d controller ConfigMaps rendered", n)
	}
}

// TestHelmChartPolicyFollowsNames: the chart's admission policy, rendered for another release,
// service account and Secret name and installed with the chart's RBAC in the real kube-apiserver,
// refuses that account a service-account token Secret under its Secret's name and any other
// name, and lets it write its own pull Secret.
func TestHelmChartPolicyFollowsNames(t *testing.T) {
	helm := helmBinary(t)
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const sa, pull = "chart-policy-sa", "chart-policy-pull"
	out, err := renderRelease(t, helm, "chartvap", "", "node.enabled=false", "controller.enabled=true",
		"controller.serviceAccount.name="+sa, "controller.secretName="+pull)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Admin)
	must(t, err)
	a := newDryRunApplier(t)
	n := 0
	for _, o := range splitObjects(t, out) {
		switch o.GetKind() {
		case "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
		default:
			continue
		}
		n++
		m, err := a.mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		must(t, err)
		if _, err := dyn.Resource(m.Resource).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dyn.Resource(m.Resource).Delete(context.Background(), o.GetName(), metav1.DeleteOptions{}) })
	}
	if n != 4 {
		t.Fatalf("%d of the ClusterRole, its binding, the policy and its binding rendered", n)
	}
	createNamespaces(t, "vap-chart")
	rc := rest.CopyConfig(cluster.Admin)
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:kube-system:" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}}
	as, err := kubernetes.NewForConfig(rc)
	must(t, err)
	create := func(s *corev1.Secret) error {
		_, err := as.CoreV1().Secrets("vap-chart").Create(ctx, s, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	label := map[string]string{refresh.ManagedByLabel: refresh.ManagedByValue}
	dockercfg := map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: pull, Labels: label,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
	// RBAC and the policy reach the API server's caches asynchronously: wait for the refusal.
	waitFor(t, "the chart's policy to refuse a service-account token Secret", func() (bool, string) {
		err := create(token)
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "may write only its own pull Secrets"), errString(err)
	})
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acr-credential-controller", Labels: label}, Type: corev1.SecretTypeDockerConfigJson, Data: dockercfg}
	if err := create(other); !apierrors.IsForbidden(err) {
		t.Errorf("a pull Secret not named controller.secretName: %v, want refused", err)
	}
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: pull, Labels: label}, Type: corev1.SecretTypeDockerConfigJson, Data: dockercfg}
	if err := create(own); err != nil {
		t.Errorf("its own pull Secret refused: %v", err)
	}
}
