package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const addonSA = "aliyun-acr-credential-helper"

func impersonatingAddon() *rest.Config {
	rc := rest.CopyConfig(cluster.Admin)
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ctrlNS + ":" + addonSA,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ctrlNS, "system:authenticated"}}
	return rc
}

// The add-on's identity, unchanged: with deploy/addon-identity/ the controller runs as
// kube-system/aliyun-acr-credential-helper, and a RAM role whose trust policy names that service
// account (the add-on's RRSA setup) takes its projected token as it is; the add-on's ConfigMap says
// rrsa: enable: true. The same policy limits what that account may write.
func TestAddonIdentityRRSA(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, applyManifests(ctx, admin, "deploy/addon-identity"))
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	t.Setenv("DOCKER_CREDENTIAL_ACR_CR_ENDPOINT", "http://"+w.fc.Endpoint())
	t.Setenv("ALIBABA_CLOUD_STS_ENDPOINT", "http://"+w.fc.Endpoint())
	const provider = "acs:ram::" + acctA + ":oidc-provider/ack-rrsa-c0ffee"
	role := fakecloud.Role{AccountID: acctA, Name: "demo-role-for-rrsa"}
	must(t, w.fc.AddRole(role))
	tr, err := admin.CoreV1().ServiceAccounts(ctrlNS).CreateToken(ctx, addonSA,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{"sts.aliyuncs.com"}}}, metav1.CreateOptions{})
	must(t, err)
	// The role trusts the add-on's service account, as the add-on's RRSA setup made it.
	must(t, w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: provider, RoleARN: role.ARN(), Token: tr.Status.Token,
		Subject: "system:serviceaccount:" + ctrlNS + ":" + addonSA}))
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600))

	createNamespaces(t, "ident-a")
	data := map[string]string{
		"watch-namespace":   "ident-a",
		"acr-registry-info": fmt.Sprintf("- instanceId: %s\n  regionId: cn-hangzhou\n  rrsaRoleARN: %s\n  rrsaOIDCProviderRoleARN: %s\n", teamID, role.ARN(), provider),
		"rrsa":              "enable: true\n",
	}
	putAddonConfigMap(t, data)
	t.Cleanup(func() {
		_ = admin.CoreV1().ConfigMaps(ctrlNS).Delete(context.Background(), addonCMName, metav1.DeleteOptions{})
	})

	// rrsa: enable: true without a projected token: a clear refusal.
	o := defaultOptions()
	o.AddonConfigMap, o.Namespace, o.rest, o.LeaderElect = ctrlNS+"/"+addonCMName, ctrlNS, impersonatingAddon(), false
	o.HealthAddr, o.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0"
	if err := run(ctx, o); err == nil || !strings.Contains(err.Error(), "rrsa: enable: true, but the pod has no projected service-account token") {
		t.Fatalf("start without a token file: %v", err)
	}

	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile)
	w.startController(func(o *options) { o.AddonConfigMap, o.rest = ctrlNS+"/"+addonCMName, impersonatingAddon() })
	want := append([]string{}, teamHosts...)
	slices.Sort(want)
	waitFor(t, "the login through the add-on's RRSA role", func() (bool, string) {
		a, _ := secretAuths(t, "ident-a")
		return slices.Equal(sortedKeys(a), want), fmt.Sprint(sortedKeys(a))
	})
	if toks := w.fc.IssuedTokens(); len(toks) != 1 || toks[0].AccessKeyID == devAK || toks[0].Principal == "" {
		t.Errorf("issued %+v: want one token for the RRSA role's session", toks)
	}

	// The policy holds for this identity too.
	as, err := kubernetes.NewForConfig(impersonatingAddon())
	must(t, err)
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type: corev1.SecretTypeServiceAccountToken}
	waitFor(t, "the policy to refuse the add-on identity a token Secret", func() (bool, string) {
		_, err := as.CoreV1().Secrets("ident-a").Create(ctx, token, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsForbidden(err), errString(err)
	})
}
