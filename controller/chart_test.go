package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// The Helm chart (deploy/helm/docker-credential-acr), rendered by the real helm for each of its
// documented value sets (its ci/ directory, and the defaults), and every object it renders
// accepted by the real kube-apiserver (a server-side apply with dryRun=All: admission and
// validation run, nothing is stored). HELM names the helm binary (.ci/build-helm.sh builds it).

const chartDir = "../deploy/helm/docker-credential-acr"

func helmBinary(t *testing.T) string {
	t.Helper()
	h := os.Getenv("HELM")
	if h == "" {
		if os.Getenv("CONTROLLER_NO_SKIP") != "" {
			t.Fatal("HELM is not set: build helm with `bash .ci/build-helm.sh` and set HELM to the path it prints")
		}
		t.Skip("SKIP (loud): HELM is not set; `HELM=$(bash .ci/build-helm.sh) go test -run Chart` renders the chart")
	}
	return h
}

// renderChart runs helm template with the values file ("" for the defaults).
func renderChart(t *testing.T, helm, values string, set ...string) ([]byte, error) {
	t.Helper()
	return renderRelease(t, helm, "acr", values, set...)
}

// renderRelease runs helm template for the release name in kube-system.
func renderRelease(t *testing.T, helm, release, values string, set ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", "kube-system"}
	if values != "" {
		args = append(args, "--values", values)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(err.Error() + ": " + stderr.String())
	}
	return out, nil
}

func splitObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(doc), 4096).Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				continue
			}
			t.Fatalf("%v\n%s", err, doc)
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
}

// dryRunApplier applies objects with dryRun=All.
type dryRunApplier struct {
	mapper *restmapper.DeferredDiscoveryRESTMapper
	dyn    dynamic.Interface
}

func newDryRunApplier(t *testing.T) *dryRunApplier {
	t.Helper()
	disco, err := discovery.NewDiscoveryClientForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return &dryRunApplier{mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco)), dyn: dyn}
}

func (a *dryRunApplier) apply(ctx context.Context, u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	var r dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		r = a.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = r.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "chart-test", Force: &force})
	return err
}

func TestHelmChartRendersWhatTheAPIServerAccepts(t *testing.T) {
	helm := helmBinary(t)
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newDryRunApplier(t)
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("the chart's value sets: %v %v", files, err)
	}
	// The kinds each value set must render (a template that silently renders nothing fails).
	want := map[string][]string{
		"":                                   {"DaemonSet"},
		"node-default-values.yaml":           {"DaemonSet"},
		"node-workload-identity-values.yaml": {"DaemonSet", "ConfigMap", "ClusterRole", "ClusterRoleBinding"},
		"node-generic-values.yaml":           {"DaemonSet"},
		"controller-values.yaml":             {"Deployment", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
		"both-rrsa-values.yaml":              {"DaemonSet", "Deployment", "ServiceAccount", "ConfigMap", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"},
		"controller-webhook-values.yaml":     {"Deployment", "ConfigMap", "Service", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy"},
		"controller-addon-values.yaml":       {"Deployment", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Service", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy"},
		"controller-namespaced-values.yaml":  {"Deployment", "ClusterRole", "ClusterRoleBinding", "RoleBinding", "ValidatingAdmissionPolicy"},
	}
	for _, f := range append([]string{""}, files...) {
		name := filepath.Base(f)
		if f == "" {
			name = ""
		}
		t.Run("values="+name, func(t *testing.T) {
			out, err := renderChart(t, helm, f)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			objs := splitObjects(t, out)
			// The watched namespaces a value set names (per-namespace RBAC) exist before the
			// chart is installed, as in a real cluster.
			for _, o := range objs {
				ensureNamespace(ctx, t, o.GetNamespace())
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
				if err := a.apply(ctx, o); err != nil {
					t.Errorf("the API server refuses %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
				}
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected kinds for %s: add them to the test", name)
			}
			for _, k := range w {
				if !slices.Contains(kinds, k) {
					t.Errorf("no %s rendered (rendered: %v)", k, kinds)
				}
			}
		})
	}

	// The dry run refuses what the API server refuses: the check can fail.
	out, err := renderChart(t, helm, "", "node.updateStrategy.type=Sometimes")
	if err != nil {
		t.Fatal(err)
	}
	refused := false
	for _, o := range splitObjects(t, out) {
		if o.GetKind() == "DaemonSet" {
			err := a.apply(ctx, o)
			refused = err != nil && strings.Contains(err.Error(), "updateStrategy")
			if !refused {
				t.Errorf("a DaemonSet with updateStrategy.type Sometimes was accepted: %v", err)
			}
		}
	}
	if !refused {
		t.Error("no DaemonSet to check the refusal with")
	}

	// Values the chart refuses, with the fix.
	for _, tc := range []struct{ set, say string }{
		{"node.serviceAccountTokens.enabled=true", "needs node.serviceAccountTokens.oidcProviderARN"},
		{"node.profile=generic", "needs node.generic.configFile"},
		{"controller.enabled=true,controller.rrsa.enabled=true", "needs controller.rrsa.roleARN"},
		{"controller.enabled=true,controller.addonConfigMap=acr-configuration", "write NAMESPACE/NAME"},
		{"controller.enabled=true,controller.webhook.enabled=true,controller.webhook.failurePolicy=Sometimes", "write Ignore"},
		{"controller.enabled=true,controller.webhook.enabled=true,controller.webhook.timeoutSeconds=60", "1 to 30"},
		{"controller.enabled=true,controller.namespacedRBAC=true,controller.config.watchNamespace=all", "needs controller.config.watchNamespace to be a list"},
	} {
		if _, err := renderChart(t, helm, "", tc.set); err == nil || !strings.Contains(err.Error(), tc.say) {
			t.Errorf("--set %s: %v; want an error saying %q", tc.set, err, tc.say)
		}
	}
}

// ensureNamespace creates the namespace for the test when it does not exist yet.
func ensureNamespace(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	if ns == "" {
		return
	}
	if _, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		return
	}
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestHelmChartAudienceRBAC: with per-workload identity, the chart's RBAC lets every node (and
// only nodes) request service-account tokens for the audience (KEP-4412), as the real
// authorizer decides.
func TestHelmChartAudienceRBAC(t *testing.T) {
	helm := helmBinary(t)
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := renderChart(t, helm, filepath.Join(chartDir, "ci", "node-workload-identity-values.yaml"),
		"node.serviceAccountTokens.audience=acr.example.com")
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	a := newDryRunApplier(t)
	n := 0
	for _, o := range splitObjects(t, out) {
		if o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" {
			continue
		}
		n++
		m, err := a.mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(m.Resource).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dyn.Resource(m.Resource).Delete(context.Background(), o.GetName(), metav1.DeleteOptions{}) })
	}
	if n != 2 {
		t.Fatalf("%d RBAC objects rendered, want the ClusterRole and its binding", n)
	}
	allowed := func(user string, groups []string, audience string) bool {
		t.Helper()
		r, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User: user, Groups: groups,
			ResourceAttributes: &authv1.ResourceAttributes{Verb: "request-serviceaccounts-token-audience", Resource: audience},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	// The RBAC authorizer sees new roles through its informers: wait until it has them (the
	// deadline only bounds a failure; the answer does not depend on it).
	nodeAllowed := false
	for deadline := time.Now().Add(30 * time.Second); !nodeAllowed && time.Now().Before(deadline); {
		if nodeAllowed = allowed("system:node:node-1", []string{"system:nodes", "system:authenticated"}, "acr.example.com"); !nodeAllowed {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !nodeAllowed {
		t.Error("a node may not request tokens for the audience")
	}
	if allowed("system:node:node-1", []string{"system:nodes", "system:authenticated"}, "other.example.com") {
		t.Error("a node may request tokens for another audience")
	}
	if allowed("system:serviceaccount:default:app", []string{"system:serviceaccounts", "system:authenticated"}, "acr.example.com") {
		t.Error("a service account may request tokens for the audience")
	}
}
