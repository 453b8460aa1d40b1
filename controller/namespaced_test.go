package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

// Per-namespace RBAC against the real kube-apiserver: an account with deploy/namespaced/'s grants
// only (namespaces cluster-wide, the rest by a RoleBinding in each watched namespace) serves a list
// of namespaces; when a namespace leaves the list, what was added there is taken away and the
// controller exits to watch the new list.
func TestNamespacedRBAC(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const sa = "acr-namespaced"
	createSA(t, ctrlNS, sa)
	createNamespaces(t, "nsr-a", "nsr-b", "nsr-other")
	data, err := os.ReadFile("deploy/namespaced/rbac.yaml")
	must(t, err)
	dir := t.TempDir()
	for _, ns := range []string{"nsr-a", "nsr-b"} {
		y := strings.ReplaceAll(strings.ReplaceAll(string(data), "NAMESPACE", ns), "name: acr-credential-controller\n    namespace: kube-system", "name: "+sa+"\n    namespace: kube-system")
		must(t, os.WriteFile(dir+"/rbac-"+ns+".yaml", []byte(y), 0o600))
	}
	must(t, applyManifests(ctx, admin, dir))
	// The ClusterRoleBinding of the file names the default account: bind ours too.
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "acr-namespaced-test"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "acr-credential-controller-cluster"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ctrlNS}}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	rc := rest.CopyConfig(cluster.Admin)
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ctrlNS + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ctrlNS, "system:authenticated"}}

	w.writeConfig(w.config("watchNamespace: nsr-a,nsr-b", teamEntry))
	r := w.startController(func(o *options) { o.rest, o.NamespacedRBAC = rc, true })
	for _, ns := range []string{"nsr-a", "nsr-b"} {
		waitFor(t, "default in "+ns+" to list the Secret", func() (bool, string) {
			a, _ := secretAuths(t, ns)
			got := pullSecrets(t, ns, "default")
			return len(a) == len(teamHosts) && slices.Equal(got, []string{secretName}), fmt.Sprint(got)
		})
	}
	if strings.Contains(r.logs.String(), "forbidden") {
		t.Errorf("the controller tried something its per-namespace RBAC does not allow:\n%s", r.logs.String())
	}

	// nsr-b leaves the list: its Secret and entry go, and the controller exits for a fresh start.
	w.writeConfig(w.config("watchNamespace: nsr-a", teamEntry))
	select {
	case err := <-r.done:
		r.done <- err // for the clean-up's stop
		if !errors.Is(err, refresh.ErrWatchSetChanged) {
			t.Fatalf("the controller ended with %v, want %v", err, refresh.ErrWatchSetChanged)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the controller did not restart after the list changed")
	}
	if a, _ := secretAuths(t, "nsr-b"); a != nil || len(pullSecrets(t, "nsr-b", "default")) != 0 {
		t.Errorf("nsr-b keeps the Secret (%v) or the entry (%v)", a != nil, pullSecrets(t, "nsr-b", "default"))
	}
	if got := pullSecrets(t, "nsr-a", "default"); !slices.Equal(got, []string{secretName}) {
		t.Errorf("nsr-a lost its entry: %v", got)
	}
}
