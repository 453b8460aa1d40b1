package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func sortedKeys(m map[string]pullAuth) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// One Secret per watched namespace covering every host of every entry, each selected service
// account listing it once with its other entries kept, one token call per registry.
func TestSecretsAndServiceAccounts(t *testing.T) {
	w := newWorld(t)
	createNamespaces(t, "sa-a", "sa-b", "sa-other")
	createSA(t, "sa-a", "builder", "mine", "theirs")
	createSA(t, "sa-a", "unselected", "mine")
	createSA(t, "sa-other", "builder")
	w.writeConfig(w.config("watchNamespace: sa-a,sa-b,sa-late\nserviceAccount: default,builder\nnotifyEmail: ops@example.com", teamEntry+personalEntry))
	r := w.startController(nil)

	wantHosts := append(append([]string{}, teamHosts...), personalHostsHZ...)
	slices.Sort(wantHosts)
	for _, ns := range []string{"sa-a", "sa-b"} {
		waitFor(t, "the Secret in "+ns, func() (bool, string) {
			auths, _ := secretAuths(t, ns)
			return slices.Equal(sortedKeys(auths), wantHosts), fmt.Sprint(sortedKeys(auths))
		})
		waitFor(t, "default in "+ns+" to list the Secret", func() (bool, string) {
			got := pullSecrets(t, ns, "default")
			return slices.Equal(got, []string{secretName}), fmt.Sprint(got)
		})
	}
	auths, sec := secretAuths(t, "sa-a")
	if sec.Type != corev1.SecretTypeDockerConfigJson || sec.Labels["app.kubernetes.io/managed-by"] != "acr-credential-controller" {
		t.Errorf("Secret type %q labels %v", sec.Type, sec.Labels)
	}
	issued := map[string]string{} // edition → token
	for _, it := range w.fc.IssuedTokens() {
		issued[it.Edition] = it.Username + "\x00" + it.Token
	}
	for host, a := range auths {
		edition := "personal"
		if slices.Contains(teamHosts, host) {
			edition = "enterprise"
		}
		if issued[edition] != a.Username+"\x00"+a.Password {
			t.Errorf("%s: login %q is not the %s token the cloud issued", host, a.Username, edition)
		}
		if a.Auth != base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)) || a.Email != "ops@example.com" {
			t.Errorf("%s: auth/email wrong: email %q", host, a.Email)
		}
	}
	waitFor(t, "builder to keep its entries and list the Secret once", func() (bool, string) {
		got := pullSecrets(t, "sa-a", "builder")
		return slices.Equal(got, []string{"mine", "theirs", secretName}), fmt.Sprint(got)
	})
	if got := pullSecrets(t, "sa-a", "unselected"); !slices.Equal(got, []string{"mine"}) {
		t.Errorf("unselected service account changed: %v", got)
	}
	if got := pullSecrets(t, "sa-other", "builder"); len(got) != 0 {
		t.Errorf("unwatched namespace's service account changed: %v", got)
	}
	if a, _ := secretAuths(t, "sa-other"); a != nil {
		t.Error("a Secret appeared in an unwatched namespace")
	}
	if n := tokenCalls(w.fc); n != 2 {
		t.Errorf("%d token calls for 2 registries", n)
	}

	// A new namespace and a new service account are served from the tokens in hand.
	createNamespaces(t, "sa-late")
	createSA(t, "sa-b", "builder")
	waitFor(t, "the new namespace and service account", func() (bool, string) {
		a, _ := secretAuths(t, "sa-late")
		late, b := pullSecrets(t, "sa-late", "default"), pullSecrets(t, "sa-b", "builder")
		return a != nil && slices.Equal(late, []string{secretName}) && slices.Equal(b, []string{secretName}), fmt.Sprint(late, b)
	})
	// Someone strips the entry: it comes back, once.
	_, err := admin.CoreV1().ServiceAccounts("sa-a").Patch(context.Background(), "builder", types.JSONPatchType,
		[]byte(`[{"op":"replace","path":"/imagePullSecrets","value":[{"name":"mine"}]}]`), metav1.PatchOptions{})
	must(t, err)
	waitFor(t, "the stripped entry to come back", func() (bool, string) {
		got := pullSecrets(t, "sa-a", "builder")
		return slices.Equal(got, []string{"mine", secretName}), fmt.Sprint(got)
	})
	if n := tokenCalls(w.fc); n != 2 {
		t.Errorf("%d token calls after new namespaces and service accounts, want still 2", n)
	}
	if code, body := r.get("/readyz"); code != 200 {
		t.Errorf("/readyz %d %s", code, body)
	}
	code, metrics := r.get("/metrics")
	if code != 200 || !strings.Contains(metrics, "acr_credential_controller_token_refreshes_total") || !strings.Contains(metrics, "acr_credential_controller_token_expiry_seconds{registry=") {
		t.Errorf("/metrics %d lacks the refresh and expiry metrics", code)
	}
	// /metrics is not served where the probes are (the pod's address), and by default only on loopback.
	if resp, err := http.Get("http://" + r.addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the health address answers %d, want 404", resp.StatusCode)
		}
	}
	if h, _, _ := net.SplitHostPort(defaultOptions().MetricsAddr); h != "127.0.0.1" {
		t.Errorf("default --metrics-addr %q is not loopback", defaultOptions().MetricsAddr)
	}
	if strings.Contains(r.logs.String(), auths[teamHosts[0]].Password) {
		t.Error("the log holds a registry password")
	}
}

// A Secret of the same name that the controller did not make is left alone.
func TestForeignSecretKept(t *testing.T) {
	w := newWorld(t)
	createNamespaces(t, "foreign")
	_, err := admin.CoreV1().Secrets("foreign").Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName}, StringData: map[string]string{"k": "user data"}}, metav1.CreateOptions{})
	must(t, err)
	w.writeConfig(w.config("watchNamespace: foreign", teamEntry))
	r := w.startController(nil)
	waitFor(t, "the controller to refuse the foreign Secret", func() (bool, string) {
		return strings.Contains(r.logs.String(), "did not make"), "no refusal logged"
	})
	s, err := admin.CoreV1().Secrets("foreign").Get(context.Background(), secretName, metav1.GetOptions{})
	must(t, err)
	if string(s.Data["k"]) != "user data" || len(s.Data) != 1 {
		t.Errorf("the foreign Secret changed: %v", s.Data)
	}
	if got := pullSecrets(t, "foreign", "default"); len(got) != 0 {
		t.Errorf("a service account lists the foreign Secret: %v", got)
	}
}
