package main

import (
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const (
	opsAK = "LTAI5tE2eOpsKey000001"
	opsSK = "ops-secret-000000000001"
	hopAK = "LTAI5tE2eHopKey000001"
	hopSK = "hop-secret-000000000001"
)

// profileEnv has no AccessKey in the environment; the CLI config holds profiles dev (AK) and
// hopper (RamRoleArn into role-assume), the credentials file section ops (access_key). Each
// entry of the config names one.
func profileEnv(t *testing.T) *env {
	e := newEnv(t)
	for _, u := range []fakecloud.User{
		{AccountID: acct, Name: "ops", AccessKeyID: opsAK, AccessKeySecret: opsSK, RegistryPassword: true},
		{AccountID: acct, Name: "hopper", AccessKeyID: hopAK, AccessKeySecret: hopSK},
	} {
		if err := e.fc.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	e.writeFile(".aliyun/config.json", `{"current":"dev","profiles":[
		{"name":"dev","mode":"AK","access_key_id":"`+ak+`","access_key_secret":"`+sk+`"},
		{"name":"hopper","mode":"RamRoleArn","access_key_id":"`+hopAK+`","access_key_secret":"`+hopSK+`","ram_role_arn":"acs:ram::`+acct+`:role/role-assume","ram_session_name":"hopper"}]}`)
	e.writeFile(".alibabacloud/credentials", "[ops]\ntype = access_key\naccess_key_id = "+opsAK+"\naccess_key_secret = "+opsSK+"\n")
	e.config(`
registries:
  - domains: [registry.cn-hangzhou.aliyuncs.com]
    profile: dev
  - domains: [registry.cn-beijing.aliyuncs.com]
    profile: ops
  - domains: [cross.example.com]
    instanceId: ` + crossID + `
    regionId: cn-shanghai
    profile: hopper
    arnUser: acs:ram::` + acctB + `:role/role-acr
`)
	return e
}

// Issue 12 §1: two entries with two profiles are two identities with two cache keys, each token
// call signed by its own profile's key; a profile in RamRoleArn mode is performed against the
// helper's STS endpoint, and the entry's role hop wraps it.
func TestProfilePerEntry(t *testing.T) {
	e := profileEnv(t)
	signer := map[string]string{}
	for _, h := range []string{"registry.cn-hangzhou.aliyuncs.com", "registry.cn-beijing.aliyuncs.com", "cross.example.com"} {
		r := e.run(h, "get")
		toks := e.fc.IssuedTokens()
		if r.code != 0 || len(toks) == 0 || !strings.Contains(r.stdout, toks[len(toks)-1].Token) {
			t.Fatalf("%s: %+v", h, r)
		}
		signer[h] = toks[len(toks)-1].AccessKeyID + " " + toks[len(toks)-1].Principal
	}
	if s := signer["registry.cn-hangzhou.aliyuncs.com"]; !strings.HasPrefix(s, ak+" ") {
		t.Errorf("hangzhou (profile dev) token signed by %s, want %s", s, ak)
	}
	if s := signer["registry.cn-beijing.aliyuncs.com"]; !strings.HasPrefix(s, opsAK+" ") {
		t.Errorf("beijing (profile ops) token signed by %s, want %s", s, opsAK)
	}
	if s := signer["cross.example.com"]; !strings.Contains(s, acctB+":assumed-role/role-acr/") {
		t.Errorf("cross (profile hopper → role-acr) token asked for by %s", s)
	}
	var hops []string
	for _, c := range e.fc.Calls() {
		if c.Action == "AssumeRole" {
			hops = append(hops, c.AccessKeyID+"→"+c.Params["RoleArn"])
		}
	}
	if len(hops) != 2 || !strings.HasPrefix(hops[0], hopAK+"→acs:ram::"+acct+":role/role-assume") || !strings.HasSuffix(hops[1], "role/role-acr") || strings.HasPrefix(hops[1], hopAK) {
		t.Errorf("AssumeRole calls %v: want the hopper key into role-assume, then that session into role-acr", hops)
	}
	// Each from its own cache entry: no new call, and doctor names the profile.
	before := len(e.fc.Calls())
	for _, h := range []string{"registry.cn-hangzhou.aliyuncs.com", "registry.cn-beijing.aliyuncs.com", "cross.example.com"} {
		if r := e.run(h, "get"); r.code != 0 {
			t.Fatalf("%s again: %+v", h, r)
		}
	}
	if n := len(e.fc.Calls()) - before; n != 0 {
		t.Errorf("%d calls for cached tokens", n)
	}
	d := e.run("", "doctor", "registry.cn-beijing.aliyuncs.com")
	if !hasLine(d.stdout, "profile:", "ops") || !hasLine(d.stdout, "credentials:", `credentials file profile "ops"`) || !hasLine(d.stdout, "cached token:", "fresh true") {
		t.Errorf("doctor: %s", d.stdout)
	}
}

// An unknown profile: an error naming the config file, the entry and the profiles that exist, and
// no call at all (never the default chain in its place).
func TestProfileUnknown(t *testing.T) {
	e := profileEnv(t)
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], e.vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = ak, sk // a default chain that could answer
	e.config("registries:\n  - domains: [registry.cn-hangzhou.aliyuncs.com]\n    profile: prod\n")
	r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
	for _, want := range []string{e.vars["DOCKER_CREDENTIAL_ACR_CONFIG"], "registries[0] (registry.cn-hangzhou.aliyuncs.com).profile", `profile "prod"`, "profiles: dev, hopper", "profiles: ops"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if r.code != 1 || len(e.fc.Calls()) != 0 {
		t.Errorf("exit %d, %d calls", r.code, len(e.fc.Calls()))
	}
	if d := e.run("", "doctor", "registry.cn-hangzhou.aliyuncs.com"); d.code != 1 || !strings.Contains(d.stdout, "profiles: dev, hopper") {
		t.Errorf("doctor: %+v", d)
	}
}
