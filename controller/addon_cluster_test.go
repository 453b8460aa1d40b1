package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// addonCM is the add-on's ConfigMap as the ACK docs write it.
const addonCMName = "acr-configuration"

func putAddonConfigMap(t *testing.T, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: addonCMName, Namespace: ctrlNS}, Data: data}
	_, err := admin.CoreV1().ConfigMaps(ctrlNS).Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = admin.CoreV1().ConfigMaps(ctrlNS).Create(ctx, cm, metav1.CreateOptions{})
	}
	must(t, err)
}

// The add-on's ConfigMap as is, read through the API (with the manifests' RBAC): an instance
// without domains serves every domain ListInstanceEndpoint lists; an edit of the ConfigMap is
// applied without a restart; a broken edit keeps the last good config and fails readiness.
func TestAddonConfigMap(t *testing.T) {
	w := newWorld(t)
	t.Setenv("DOCKER_CREDENTIAL_ACR_CR_ENDPOINT", "http://"+w.fc.Endpoint())
	t.Setenv("ALIBABA_CLOUD_STS_ENDPOINT", "http://"+w.fc.Endpoint())
	createNamespaces(t, "addon-a", "addon-b")
	createSA(t, "addon-a", "builder")
	data := map[string]string{
		"watch-namespace":    "addon-a",
		"service-account":    "Default,builder",
		"expiring-threshold": "15m",
		"notify-email":       "ops@example.com",
		"acr-api-version":    "2018-12-01",
		"acr-registry-info":  "- instanceId: \"" + teamID + "\"\n  regionId: \"cn-hangzhou\"\n  domains: \"\"\n  assumeRoleARN: \"\"\n  expireDuration: 3600\n  rrsaRoleARN: \"\"\n  rrsaOIDCProviderRoleARN: \"\"\n",
		"rrsa":               "enable: false\n",
	}
	putAddonConfigMap(t, data)
	t.Cleanup(func() {
		_ = admin.CoreV1().ConfigMaps(ctrlNS).Delete(context.Background(), addonCMName, metav1.DeleteOptions{})
	})
	r := w.startController(func(o *options) { o.AddonConfigMap = ctrlNS + "/" + addonCMName })

	want := append([]string{}, teamHosts...)
	slices.Sort(want)
	waitFor(t, "the Secret in addon-a with every domain of the instance", func() (bool, string) {
		a, _ := secretAuths(t, "addon-a")
		return slices.Equal(sortedKeys(a), want), fmt.Sprint(sortedKeys(a))
	})
	for _, sa := range []string{"default", "builder"} {
		waitFor(t, sa+" to list the Secret", func() (bool, string) {
			got := pullSecrets(t, "addon-a", sa)
			return slices.Equal(got, []string{secretName}), fmt.Sprint(got)
		})
	}
	if n := w.fc.Count("ListInstanceEndpoint"); n != 1 {
		t.Errorf("%d ListInstanceEndpoint calls for one registry, want 1", n)
	}

	// An edit: one more namespace, applied from the watch.
	data["watch-namespace"] = "addon-a,addon-b"
	putAddonConfigMap(t, data)
	waitFor(t, "the Secret in addon-b after the ConfigMap changed", func() (bool, string) {
		a, _ := secretAuths(t, "addon-b")
		return len(a) == len(want), fmt.Sprint(sortedKeys(a))
	})

	// A key the add-on does not have: not ready, the last good config stays, the error names it.
	data["watch-namespacez"] = "x"
	putAddonConfigMap(t, data)
	waitFor(t, "/readyz to report the broken ConfigMap", func() (bool, string) {
		code, body := r.get("/readyz")
		return code == 503, fmt.Sprint(code, body)
	})
	waitFor(t, "the log to name the unknown key", func() (bool, string) {
		return strings.Contains(r.logs.String(), "watch-namespacez: unknown key"), ""
	})
	if a, _ := secretAuths(t, "addon-b"); len(a) != len(want) {
		t.Errorf("a broken ConfigMap changed the Secret: %v", sortedKeys(a))
	}
	if got := len(w.fc.IssuedTokens()); got != 1 {
		t.Errorf("%d tokens issued, want 1 (one registry, reloads keep its token)", got)
	}
}
