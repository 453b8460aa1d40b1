package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The seed's cross-account recipe: the controller's own service-account token (issued by the real
// API server, projected as RRSA projects it) buys the cluster owner's role through
// AssumeRoleWithOIDC, which assumes the registry owner's role in another account, which asks for the
// token of that account's instance. No AccessKey anywhere.
func TestRRSACrossAccount(t *testing.T) {
	w := newWorld(t)
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	const provider = "acs:ram::" + acctA + ":oidc-provider/ack-rrsa-c0ffee"
	clusterRole := fakecloud.Role{AccountID: acctA, Name: "demo-role-for-rrsa"}
	ownerRole := fakecloud.Role{AccountID: acctB, Name: "acr-puller", TrustedPrincipals: []string{clusterRole.ARN()}}
	must(t, w.fc.AddRole(clusterRole))
	must(t, w.fc.AddRole(ownerRole))
	must(t, w.fc.AddInstance(fakecloud.Instance{AccountID: acctB, ID: crossID, Name: "cross", Region: "cn-shanghai"}))

	tr, err := admin.CoreV1().ServiceAccounts(ctrlNS).CreateToken(context.Background(), ctrlSA,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{"sts.aliyuncs.com"}}}, metav1.CreateOptions{})
	must(t, err)
	must(t, w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: provider, RoleARN: clusterRole.ARN(), Token: tr.Status.Token,
		Subject: "system:serviceaccount:" + ctrlNS + ":" + ctrlSA}))
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600))
	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile)

	createNamespaces(t, "rrsa-a")
	entry := fmt.Sprintf("  - instanceId: %s\n    regionId: cn-shanghai\n    domains: [cross-registry.cn-shanghai.cr.aliyuncs.com]\n"+
		"    rrsaRoleARN: %s\n    rrsaOIDCProviderRoleARN: %s\n    assumeRoleARN: %s\n    expireDuration: 3600\n",
		crossID, clusterRole.ARN(), provider, ownerRole.ARN())
	w.writeConfig(w.config("watchNamespace: rrsa-a", entry))
	w.startController(nil)
	waitFor(t, "the cross-account login", func() (bool, string) {
		a, _ := secretAuths(t, "rrsa-a")
		return len(a) == 2, fmt.Sprint(sortedKeys(a))
	})
	toks := w.fc.IssuedTokens()
	if len(toks) != 1 || toks[0].InstanceID != crossID {
		t.Fatalf("issued %+v, want one token of %s", toks, crossID)
	}
	var actions []string
	for _, c := range w.fc.Calls() {
		actions = append(actions, c.Action)
	}
	want := []string{"AssumeRoleWithOIDC", "AssumeRole", "GetAuthorizationToken"}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", actions, want)
	}
	a, _ := secretAuths(t, "rrsa-a")
	if a["cross-registry-vpc.cn-shanghai.cr.aliyuncs.com"].Password != toks[0].Token {
		t.Error("the -vpc domain does not carry the instance's token")
	}
}

// RRSA as ACK's pod-identity webhook injects it: the role and provider ARNs and the token file in
// the environment, nothing in the config; same account.
func TestRRSAFromEnvironment(t *testing.T) {
	w := newWorld(t)
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	const provider = "acs:ram::" + acctA + ":oidc-provider/ack-rrsa-c0ffee"
	role := fakecloud.Role{AccountID: acctA, Name: "acr-controller"}
	must(t, w.fc.AddRole(role))
	tr, err := admin.CoreV1().ServiceAccounts(ctrlNS).CreateToken(context.Background(), ctrlSA,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{"sts.aliyuncs.com"}}}, metav1.CreateOptions{})
	must(t, err)
	must(t, w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: provider, RoleARN: role.ARN(), Token: tr.Status.Token,
		Subject: "system:serviceaccount:" + ctrlNS + ":" + ctrlSA}))
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600))
	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile)
	t.Setenv("ALIBABA_CLOUD_ROLE_ARN", role.ARN())
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", provider)

	createNamespaces(t, "rrsa-env")
	w.writeConfig(w.config("watchNamespace: rrsa-env", teamEntry))
	w.startController(nil)
	waitFor(t, "the login through RRSA", func() (bool, string) {
		a, _ := secretAuths(t, "rrsa-env")
		return len(a) == 3, fmt.Sprint(sortedKeys(a))
	})
	var actions []string
	for _, c := range w.fc.Calls() {
		actions = append(actions, c.Action)
	}
	if want := []string{"AssumeRoleWithOIDC", "GetAuthorizationToken"}; fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", actions, want)
	}
	toks := w.fc.IssuedTokens()
	if len(toks) != 1 || toks[0].InstanceID != teamID || toks[0].Principal == "" || toks[0].AccessKeyID == devAK {
		t.Errorf("issued %+v: want one token of %s for the RRSA role's session", toks, teamID)
	}
}
