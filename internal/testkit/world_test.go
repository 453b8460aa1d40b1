package testkit

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The world is consistent: every trust and OIDC reference names a role or account of the world,
// every instance has a fixed token, ids and keys are unique, and the fake accepts it all.
func TestWorldIsConsistent(t *testing.T) {
	w := Load()
	accounts := map[string]bool{}
	for _, a := range w.Accounts {
		accounts[a.ID] = true
	}
	roles := map[string]bool{}
	for _, r := range w.Roles {
		roles[r.ARN()] = true
		if !accounts[r.AccountID] {
			t.Errorf("role %s: account %s is not named in accounts", r.Name, r.AccountID)
		}
	}
	keys := map[string]bool{}
	for _, u := range w.Users {
		if keys[u.AccessKeyID] || !accounts[u.AccountID] {
			t.Errorf("user %s: duplicate key or unnamed account", u.Name)
		}
		keys[u.AccessKeyID] = true
	}
	for _, r := range w.Roles {
		for _, a := range r.TrustedAccounts {
			if !accounts[a] {
				t.Errorf("role %s trusts unknown account %s", r.Name, a)
			}
		}
		for _, p := range r.TrustedPrincipals {
			if !roles[p] && !strings.Contains(p, ":user/") {
				t.Errorf("role %s trusts unknown principal %s", r.Name, p)
			}
		}
	}
	ids := map[string]bool{}
	for _, in := range w.Instances {
		if ids[in.ID] {
			t.Errorf("duplicate instance id %s", in.ID)
		}
		ids[in.ID] = true
		if w.FixedToken(in.ID) == "" {
			t.Errorf("instance %s has no fixed token", in.Name)
		}
	}
	if w.FixedToken("") == "" || !roles[w.ECSRole] || !roles[w.OIDCToken("rrsa-role").RoleARN] {
		t.Error("personal token, ECS role or OIDC role missing")
	}
	// Service-account-shaped OIDC tokens name, in their payload, the subject they are registered with.
	for _, tok := range w.OIDC {
		parts := strings.Split(tok.Token, ".")
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Sub string `json:"sub"`
		}
		if len(parts) != 3 || err != nil || (json.Unmarshal(b, &claims) == nil && claims.Sub != "" && claims.Sub != tok.Subject) {
			t.Errorf("OIDC token of %s: payload sub %q, registered subject %q (%v)", tok.RoleARN, claims.Sub, tok.Subject, err)
		}
		if !roles[tok.RoleARN] {
			t.Errorf("OIDC token for unknown role %s", tok.RoleARN)
		}
	}
	fc := fakecloud.New()
	if err := fc.Apply(&w.Scenario); err != nil {
		t.Fatal(err)
	}
	// Load hands out copies.
	w.Users[0].Name = "changed"
	if Load().Users[0].Name == "changed" {
		t.Error("Load shares state between callers")
	}
}

func TestStartFakeFixedTokens(t *testing.T) {
	ScrubEnv(t)
	fc, w := StartFake(t)
	if len(w.FixedTokens) != 0 || fc.Endpoint() == "" {
		t.Fatalf("fixed tokens without WithFixedTokens: %v", w.FixedTokens)
	}
	_, w2 := StartFake(t, WithFixedTokens(), Edit(func(w *World) { w.Users = w.Users[:1] }))
	if len(w2.FixedTokens) == 0 || len(w2.Users) != 1 {
		t.Fatalf("options not applied: %d tokens, %d users", len(w2.FixedTokens), len(w2.Users))
	}
}

func TestScrubEnv(t *testing.T) {
	for k, v := range map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "x", "ALICLOUD_ACCESS_KEY": "x", "DOCKER_CREDENTIAL_ACR_CONFIG": "x",
		"https_proxy": "http://proxy", "NO_PROXY": "x", "DEBUG": "tea", "XDG_CACHE_HOME": "/root/.cache", "DOCKER_CONFIG": "/x",
	} {
		t.Setenv(k, v)
	}
	home := os.Getenv("HOME")
	d := ScrubEnv(t)
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY", "DOCKER_CREDENTIAL_ACR_CONFIG", "https_proxy", "NO_PROXY", "DEBUG", "DOCKER_CONFIG"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Errorf("%s still set to %q", k, v)
		}
	}
	if os.Getenv("HOME") == home || os.Getenv("HOME") != d.Home || os.Getenv("XDG_CACHE_HOME") != d.Cache ||
		os.Getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED") != "true" {
		t.Errorf("HOME %q, XDG_CACHE_HOME %q, metadata %q", os.Getenv("HOME"), os.Getenv("XDG_CACHE_HOME"), os.Getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED"))
	}
	env, _ := ChildEnv("/h")
	for _, kv := range Environ(env) {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PATH" && scrubbed(k) && !strings.HasPrefix(k, "XDG_") && k != "ALIBABA_CLOUD_ECS_METADATA_DISABLED" {
			t.Errorf("child env carries %s", kv)
		}
	}
	if env["HOME"] != "/h" || env["XDG_DATA_HOME"] != "/h/data" {
		t.Errorf("child env %v", env)
	}
}

func TestHostileFixtures(t *testing.T) {
	hosts := HostileHosts()
	var invalid, nul bool
	for _, h := range hosts {
		invalid = invalid || !utf8.ValidString(h.Input)
		nul = nul || strings.ContainsRune(h.Input, 0)
	}
	if len(hosts) < 10 || !invalid || !nul {
		t.Errorf("%d hostile hosts, invalid UTF-8 %v, NUL %v", len(hosts), invalid, nul)
	}
	names, bodies := HostileConfigs()
	if len(names) < 6 || len(bodies["deep-nest"]) != 10000 || !strings.Contains(string(bodies["alias-bomb"]), "&a") {
		t.Errorf("hostile configs %v", names)
	}
}
