package credhelper

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// statements lists a policy as "action+action=resource,resource" lines in the document's order.
func statements(r *policyReport) []string {
	var out []string
	for _, st := range r.Policy.Statement {
		out = append(out, strings.Join(st.Action, "+")+"="+strings.Join(st.Resource, ","))
	}
	return out
}

// doctor --policy writes exactly what each identity of a plan calls: discovery only where the
// plan needs it, sts:AssumeRole for the next hop, the token or the secret for the last.
func TestPolicies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	hub, err := secrets.ParseRef("acs:kms:cn-shanghai:"+acctB+":secret/hub", "")
	if err != nil {
		t.Fatal(err)
	}
	ghcr, _ := secrets.ParseRef("ghcr", "cn-hangzhou")
	regs := []config.Registry{
		{Domains: []string{"cross.example.com"}, InstanceID: crossID, RegionID: "cn-shanghai", ArnService: roleSvc, ArnUser: roleUser},
		{Domains: []string{customDom}, RegionID: "cn-beijing"},
		{Domains: []string{"docker.io"}, RegionID: "cn-shanghai", ArnUser: roleUser, Secret: &config.Secret{Ref: hub, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}},
		{Domains: []string{"ghcr.io"}, RegionID: "cn-hangzhou", Secret: &config.Secret{Ref: ghcr, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}},
	}
	const base = "base credentials: environment AccessKey"
	tests := []struct {
		name     string
		hosts    []string
		want     map[string][]string
		problems int
	}{
		{"personal", []string{"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com"}, map[string][]string{base: {
			"cr:GetAuthorizationToken=acs:cr:cn-hangzhou:*:*", "cr:PullRepository=acs:cr:cn-hangzhou:*:repository/*"}}, 0},
		{"enterprise default domain: found by name", []string{"team-registry.cn-beijing.cr.aliyuncs.com"}, map[string][]string{base: {
			"cr:GetAuthorizationToken=acs:cr:cn-beijing:*:instance/*,acs:cr:cn-beijing:*:repository/*",
			"cr:PullRepository=acs:cr:cn-beijing:*:instance/*,acs:cr:cn-beijing:*:repository/*/*",
			"cr:ListInstance=*"}}, 0},
		{"custom domain without instanceId: confirmed", []string{customDom}, map[string][]string{base: {
			"cr:GetAuthorizationToken=acs:cr:cn-beijing:*:instance/*,acs:cr:cn-beijing:*:repository/*",
			"cr:PullRepository=acs:cr:cn-beijing:*:instance/*,acs:cr:cn-beijing:*:repository/*/*",
			"cr:ListInstanceEndpoint=acs:cr:cn-beijing:*:instance/*"}}, 0},
		{"two hops", []string{"cross.example.com"}, map[string][]string{
			base:              {"sts:AssumeRole=" + roleSvc},
			"role " + roleSvc: {"sts:AssumeRole=" + roleUser},
			"role " + roleUser: {
				"cr:GetAuthorizationToken=acs:cr:cn-shanghai:" + acctB + ":instance/" + crossID + ",acs:cr:cn-shanghai:" + acctB + ":repository/" + crossID,
				"cr:PullRepository=acs:cr:cn-shanghai:" + acctB + ":instance/" + crossID + ",acs:cr:cn-shanghai:" + acctB + ":repository/" + crossID + "/*"}}, 0},
		{"secrets, merged per identity", []string{"ghcr.io", "https://index.docker.io/v1/", "cross.example.com", "nothing.example.com"}, map[string][]string{
			base: {"sts:AssumeRole=" + roleSvc + "," + roleUser, "kms:GetSecretValue=acs:kms:cn-hangzhou:*:secret/ghcr"},
			"role " + roleUser: {
				"cr:GetAuthorizationToken=acs:cr:cn-shanghai:" + acctB + ":instance/" + crossID + ",acs:cr:cn-shanghai:" + acctB + ":repository/" + crossID,
				"cr:PullRepository=acs:cr:cn-shanghai:" + acctB + ":instance/" + crossID + ",acs:cr:cn-shanghai:" + acctB + ":repository/" + crossID + "/*",
				"kms:GetSecretValue=acs:kms:cn-shanghai:" + acctB + ":secret/hub"},
			"role " + roleSvc: {"sts:AssumeRole=" + roleUser}}, 1},
	}
	for _, tt := range tests {
		k := w.keychain(t, regs...)
		reports, problems := policies(k, ctx(t), tt.hosts)
		if len(problems) != tt.problems {
			t.Errorf("%s: problems %q", tt.name, problems)
		}
		if len(reports) != len(tt.want) {
			t.Errorf("%s: %d identities, want %d", tt.name, len(reports), len(tt.want))
		}
		for _, r := range reports {
			if got, want := strings.Join(statements(r), "\n"), strings.Join(tt.want[r.Identity], "\n"); got != want {
				t.Errorf("%s: %s:\n%s\nwant\n%s", tt.name, r.Identity, got, want)
			}
		}
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("--policy made %d API calls", n)
	}

	// The command: documents on stdout, --json an array, exit 1 for a host it cannot plan.
	k := w.keychain(t, regs...)
	var out, errb bytes.Buffer
	if code := Doctor(ctx(t), k, []string{"--policy", "--json", "ghcr.io", "nothing.example.com"}, &out, &errb); code != 1 {
		t.Errorf("exit %d", code)
	}
	var arr []policyReport
	if err := json.Unmarshal(out.Bytes(), &arr); err != nil || len(arr) != 1 || arr[0].Hosts[0] != "ghcr.io" || len(arr[0].Notes) != 1 {
		t.Errorf("%v %s", err, out.String())
	}
	if !strings.Contains(errb.String(), "PROBLEM: nothing.example.com") {
		t.Errorf("stderr %q", errb.String())
	}
}

// TestPolicyWithoutCredentials: --policy makes no call, so it needs no credentials: on a machine
// without any (the README's docker.io example before an AccessKey is set up) it prints the same
// documents, the base identity named as the one still to come.
func TestPolicyWithoutCredentials(t *testing.T) {
	t.Parallel()
	w := newWorld(t) // no AccessKey
	hub, err := secrets.ParseRef("acs:kms:cn-shanghai:"+acctB+":secret/dockerhub-pull", "")
	if err != nil {
		t.Fatal(err)
	}
	k := w.keychain(t, config.Registry{Domains: []string{"docker.io"}, RegionID: "cn-shanghai", ArnUser: roleUser,
		Secret: &config.Secret{Ref: hub, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}})
	var out, errb bytes.Buffer
	if code := Doctor(ctx(t), k, []string{"--policy", "--json", "docker.io"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var arr []policyReport
	if err := json.Unmarshal(out.Bytes(), &arr); err != nil || len(arr) != 2 {
		t.Fatalf("%v: %s", err, out.String())
	}
	base, role := strings.Join(statements(&arr[0]), "\n"), strings.Join(statements(&arr[1]), "\n")
	if !strings.HasPrefix(arr[0].Identity, "base credentials: none on this machine yet") || base != "sts:AssumeRole="+roleUser ||
		arr[1].Identity != "role "+roleUser || role != "kms:GetSecretValue=acs:kms:cn-shanghai:"+acctB+":secret/dockerhub-pull" {
		t.Errorf("%s: %s\n%s: %s", arr[0].Identity, base, arr[1].Identity, role)
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("--policy made %d API calls", n)
	}
}
