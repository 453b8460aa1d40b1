package refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Fast tests of the reconcile logic on client-go's fake clientset (seconds, no API server). The
// evidence that it works against a real kube-apiserver is in the controller module's tests.

func ns(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1"}}
}

func sa(namespace, name string, annotations map[string]string, refs ...string) *corev1.ServiceAccount {
	s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, ResourceVersion: "1", Annotations: annotations}}
	for _, r := range refs {
		s.ImagePullSecrets = append(s.ImagePullSecrets, corev1.LocalObjectReference{Name: r})
	}
	return s
}

func fakeRegistry(calls *atomic.Int32) Registry {
	return Registry{Key: "k", Name: "registries[0]", Hosts: []string{"registry.cn-hangzhou.aliyuncs.com"},
		Fetch: func(context.Context) (Token, error) {
			calls.Add(1)
			return Token{Username: "cr_temp_user", Password: "token", ExpiresAt: time.Now().Add(time.Hour)}, nil
		}}
}

func runFake(t *testing.T, s Settings, objs ...runtime.Object) (*fake.Clientset, *Controller) {
	t.Helper()
	client := fake.NewClientset(objs...)
	c := New(client, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return client, c
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var why string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %s", what, why)
}

func refsOf(t *testing.T, client *fake.Clientset, namespace, name string) (refs []string, marked bool) {
	t.Helper()
	got, err := client.CoreV1().ServiceAccounts(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got.ImagePullSecrets {
		refs = append(refs, r.Name)
	}
	return refs, got.Annotations[AddedAnnotation] != ""
}

func TestReconcileOnFakeClientset(t *testing.T) {
	var calls atomic.Int32
	s := Settings{Registries: []Registry{fakeRegistry(&calls)}, Namespaces: []string{"a", "b"}, ServiceAccounts: []string{"default", "builder"}, Threshold: 15 * time.Minute}
	client, _ := runFake(t, s,
		ns("a"), ns("b"), ns("other"),
		sa("a", "default", nil), sa("a", "builder", map[string]string{"x": "y"}, "theirs"), sa("a", "unselected", nil),
		sa("b", "default", nil),
		// Someone else's reference to a Secret of the controller's name, in an unwatched namespace.
		sa("other", "default", nil, DefaultSecretName),
	)
	for _, n := range []string{"a", "b"} {
		eventually(t, "the Secret in "+n, func() (bool, string) {
			sec, err := client.CoreV1().Secrets(n).Get(context.Background(), DefaultSecretName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			var dc dockerConfig
			_ = json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &dc)
			_, ok := dc.Auths["registry.cn-hangzhou.aliyuncs.com"]
			return ok && sec.Type == corev1.SecretTypeDockerConfigJson && sec.Labels[ManagedByLabel] == ManagedByValue, fmt.Sprint(dc.Auths)
		})
	}
	eventually(t, "builder lists the Secret after its own", func() (bool, string) {
		refs, marked := refsOf(t, client, "a", "builder")
		return slices.Equal(refs, []string{"theirs", DefaultSecretName}) && marked, fmt.Sprint(refs, marked)
	})
	if refs, _ := refsOf(t, client, "a", "unselected"); len(refs) != 0 {
		t.Errorf("unselected lists %v", refs)
	}
	if refs, _ := refsOf(t, client, "other", "default"); !slices.Equal(refs, []string{DefaultSecretName}) {
		t.Errorf("a reference the controller did not add was changed: %v", refs)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d token fetches for 2 namespaces, want 1", n)
	}
}

// A namespace leaving the watch set loses only what the controller added.
func TestUnwatchRemovesOnlyOwnReferences(t *testing.T) {
	var calls atomic.Int32
	s := Settings{Registries: []Registry{fakeRegistry(&calls)}, Namespaces: []string{"a"}, ServiceAccounts: []string{"*"}, Threshold: 15 * time.Minute}
	client, c := runFake(t, s, ns("a"), sa("a", "default", nil), sa("a", "hand", nil, DefaultSecretName))
	eventually(t, "default lists the Secret", func() (bool, string) {
		refs, marked := refsOf(t, client, "a", "default")
		return slices.Equal(refs, []string{DefaultSecretName}) && marked, fmt.Sprint(refs)
	})
	s.Namespaces = []string{"elsewhere"}
	c.Update(s)
	eventually(t, "default to lose the Secret the controller added", func() (bool, string) {
		refs, marked := refsOf(t, client, "a", "default")
		return len(refs) == 0 && !marked, fmt.Sprint(refs, marked)
	})
	if refs, _ := refsOf(t, client, "a", "hand"); !slices.Equal(refs, []string{DefaultSecretName}) {
		t.Errorf("a hand-written reference was removed: %v", refs)
	}
}

// Without --adopt-addon-secrets, a service account naming an add-on Secret is said once.
func TestStaleAddonSecretWarned(t *testing.T) {
	var calls atomic.Int32
	var logs syncBuf
	s := Settings{Registries: []Registry{fakeRegistry(&calls)}, Namespaces: []string{"a"}, ServiceAccounts: []string{"default"}, Threshold: 15 * time.Minute}
	client := fake.NewClientset(ns("a"), sa("a", "default", nil, "acr-credential-0123456789abcdef0123456789abcdef"))
	c := New(client, s)
	c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "default to list the Secret", func() (bool, string) {
		refs, _ := refsOf(t, client, "a", "default")
		return slices.Contains(refs, DefaultSecretName), fmt.Sprint(refs)
	})
	c.enqueueAll() // a second pass says nothing new
	eventually(t, "the warning", func() (bool, string) {
		return strings.Contains(logs.String(), "--adopt-addon-secrets"), logs.String()
	})
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(logs.String(), "names a Secret of the ACK add-on"); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAdmit(t *testing.T) {
	c := New(fake.NewClientset(), Settings{Registries: []Registry{{Key: "k"}}, Namespaces: []string{"a"}, ServiceAccounts: []string{"default", "builder"}})
	review := func(namespace string, obj *corev1.ServiceAccount, op admissionv1.Operation) *admissionv1.AdmissionResponse {
		raw, _ := json.Marshal(obj)
		return c.admit(&admissionv1.AdmissionRequest{Namespace: namespace, Operation: op, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"},
			Object: runtime.RawExtension{Raw: raw}})
	}
	tests := []struct {
		name      string
		namespace string
		obj       *corev1.ServiceAccount
		op        admissionv1.Operation
		patch     string
	}{
		{"selected, no list", "a", sa("a", "default", nil), admissionv1.Create,
			`[{"op":"add","path":"/imagePullSecrets","value":[{"name":"acr-credential-controller"}]},{"op":"add","path":"/metadata/annotations","value":{"acr-credential-controller.docker-credential-acr.io/added":"acr-credential-controller"}}]`},
		{"selected, own list and annotations", "a", sa("a", "builder", map[string]string{"x": "y"}, "theirs"), admissionv1.Create,
			`[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"acr-credential-controller"}},{"op":"add","path":"/metadata/annotations/acr-credential-controller.docker-credential-acr.io~1added","value":"acr-credential-controller"}]`},
		{"already listed", "a", sa("a", "default", nil, DefaultSecretName), admissionv1.Create, ""},
		{"not selected", "a", sa("a", "other", nil), admissionv1.Create, ""},
		{"unwatched namespace", "b", sa("b", "default", nil), admissionv1.Create, ""},
		{"an update", "a", sa("a", "default", nil), admissionv1.Update, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := review(tt.namespace, tt.obj, tt.op)
			if !resp.Allowed {
				t.Fatal("the webhook refused a request")
			}
			if string(resp.Patch) != tt.patch {
				t.Errorf("patch %s, want %s", resp.Patch, tt.patch)
			}
		})
	}
}

func dockerSecret(namespace, name string, typ corev1.SecretType, hosts ...string) *corev1.Secret {
	auths := map[string]map[string]string{}
	for _, h := range hosts {
		auths[h] = map[string]string{"username": "cr_temp_user", "password": "stale"}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	key := corev1.DockerConfigJsonKey
	if typ != corev1.SecretTypeDockerConfigJson {
		key = "config"
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, ResourceVersion: "1"}, Type: typ, Data: map[string][]byte{key: b}}
}

// With Adopt, an add-on Secret that no service account names (a pod spec names it directly) is
// found by listing the namespace's dockerconfigjson Secrets, adopted once and refreshed in place
// after each token refresh; Secrets failing the rule are left exactly as they were.
func TestAdoptSecretNoServiceAccountNames(t *testing.T) {
	const (
		workloadOnly = "acr-credential-00112233445566778899aabbccddeeff"
		foreign      = "acr-credential-ffeeddccbbaa99887766554433221100"
		opaque       = "acr-credential-0123456789abcdef0123456789abcdef"
	)
	var fetches atomic.Int32
	reg := func(key string) Registry {
		return Registry{Key: key, Name: "registries[0]", Hosts: []string{"registry.cn-hangzhou.aliyuncs.com"},
			Fetch: func(context.Context) (Token, error) {
				n := fetches.Add(1)
				return Token{Username: "cr_temp_user", Password: fmt.Sprint("token-", n), ExpiresAt: time.Now().Add(time.Hour)}, nil
			}}
	}
	var logs syncBuf
	s := Settings{Registries: []Registry{reg("k")}, Namespaces: []string{"a"}, ServiceAccounts: []string{"default"}, Threshold: 15 * time.Minute}
	untouched := []*corev1.Secret{
		dockerSecret("a", foreign, corev1.SecretTypeDockerConfigJson, "registry.cn-hangzhou.aliyuncs.com", "docker.io"),
		dockerSecret("a", opaque, corev1.SecretTypeOpaque, "registry.cn-hangzhou.aliyuncs.com"),
		dockerSecret("a", "acr-credential-not-the-add-on", corev1.SecretTypeDockerConfigJson, "registry.cn-hangzhou.aliyuncs.com"),
		dockerSecret("unwatched", "acr-credential-aaaabbbbccccddddeeeeffff00001111", corev1.SecretTypeDockerConfigJson, "registry.cn-hangzhou.aliyuncs.com"),
	}
	objs := []runtime.Object{ns("a"), ns("unwatched"), sa("a", "default", nil),
		dockerSecret("a", workloadOnly, corev1.SecretTypeDockerConfigJson, "registry.cn-hangzhou.aliyuncs.com")}
	for _, u := range untouched {
		objs = append(objs, u)
	}
	client := fake.NewClientset(objs...)
	c := New(client, s)
	c.Adopt = true
	c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	password := func() (string, *corev1.Secret) {
		sec, err := client.CoreV1().Secrets("a").Get(context.Background(), workloadOnly, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var dc dockerConfig
		_ = json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &dc)
		return dc.Auths["registry.cn-hangzhou.aliyuncs.com"].Password, sec
	}
	eventually(t, "the Secret only a workload names to be adopted", func() (bool, string) {
		p, sec := password()
		return p == "token-1" && sec.Labels[ManagedByLabel] == ManagedByValue && sec.Annotations[AdoptedAnnotation] != "", p
	})
	// A reload with a new registry fetches a new token: the adopted Secret follows it.
	c.Update(Settings{Registries: []Registry{reg("k2")}, Namespaces: []string{"a"}, ServiceAccounts: []string{"default"}, Threshold: 15 * time.Minute})
	eventually(t, "the adopted Secret to carry the new token", func() (bool, string) {
		p, _ := password()
		return p == "token-2", p
	})
	for _, u := range untouched {
		got, err := client.CoreV1().Secrets(u.Namespace).Get(context.Background(), u.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.ResourceVersion != u.ResourceVersion || len(got.Labels) != 0 || len(got.Annotations) != 0 || !slices.Equal(sortedData(got), sortedData(u)) {
			t.Errorf("%s/%s was changed", u.Namespace, u.Name)
		}
	}
	var typed int
	for _, a := range client.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok && a.GetResource().Resource == "secrets" && a.GetNamespace() == "a" {
			if f := l.GetListRestrictions().Fields.String(); f == "type=kubernetes.io/dockerconfigjson" {
				typed++
			} else if f != "metadata.name="+DefaultSecretName {
				t.Errorf("a Secret listing with field selector %q", f)
			}
		}
	}
	if typed == 0 {
		t.Error("the add-on's Secrets were not listed by type")
	}
	if n := strings.Count(logs.String(), "adopted an add-on Secret"); n != 1 {
		t.Errorf("%d adoption log lines, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "not adopting an add-on Secret"); n != 1 || !strings.Contains(logs.String(), foreign) {
		t.Errorf("the foreign Secret is not named once in the log (%d lines)", n)
	}
	if strings.Contains(logs.String(), "token-") {
		t.Error("a token in the log")
	}
}

func sortedData(s *corev1.Secret) []string {
	var out []string
	for k, v := range s.Data {
		out = append(out, k+"="+string(v))
	}
	slices.Sort(out)
	return out
}

// Under an older migration grant (no list), the Secrets service accounts name are still adopted,
// the namespace is still reconciled, and the missing grant is said once.
func TestAdoptWithoutListGrant(t *testing.T) {
	const named = "acr-credential-00112233445566778899aabbccddeeff"
	var calls atomic.Int32
	var logs syncBuf
	s := Settings{Registries: []Registry{fakeRegistry(&calls)}, Namespaces: []string{"a"}, ServiceAccounts: []string{"default"}, Threshold: 15 * time.Minute}
	client := fake.NewClientset(ns("a"), sa("a", "default", nil, named),
		dockerSecret("a", named, corev1.SecretTypeDockerConfigJson, "registry.cn-hangzhou.aliyuncs.com"))
	client.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.ListAction).GetListRestrictions().Fields.String() == "type=kubernetes.io/dockerconfigjson" {
			return true, nil, apierrors.NewForbidden(corev1.Resource("secrets"), "", fmt.Errorf("no list"))
		}
		return false, nil, nil
	})
	c := New(client, s)
	c.Adopt = true
	c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the named Secret adopted and default listing the controller's", func() (bool, string) {
		sec, err := client.CoreV1().Secrets("a").Get(context.Background(), named, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		refs, _ := refsOf(t, client, "a", "default")
		return sec.Labels[ManagedByLabel] == ManagedByValue && slices.Equal(refs, []string{named, DefaultSecretName}), fmt.Sprint(refs)
	})
	c.enqueueAll()
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(logs.String(), "cannot list Secrets"); n != 1 {
		t.Errorf("%d warnings of the missing grant, want 1:\n%s", n, logs.String())
	}
}
