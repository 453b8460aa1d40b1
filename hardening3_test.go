package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// externalEnv has no AccessKey in the environment and a CLI config whose current profile is
// External: its command (a script) counts its runs and prints the dev user's AccessKey as a
// profile, after prelude, with an expiration an hour ahead.
func externalEnv(t *testing.T, prelude string) (e *env, config string, runs func() int) {
	e = newEnv(t)
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	counter := filepath.Join(e.home, "runs")
	exp := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05Z")
	script := e.writeFile("bin/creds", "#!/bin/sh\necho run >> "+counter+"\necho 'a log line on stderr' >&2\n"+prelude+
		`echo '{"mode":"AK","access_key_id":"`+ak+`","access_key_secret":"`+sk+`","expiration":"`+exp+`"}'`+"\n")
	if err := os.Chmod(script, 0o700); err != nil {
		t.Fatal(err)
	}
	// Top-level keys the CLI writes and credentials-go does not know, spacing of the CLI's own.
	config = e.writeFile(".aliyun/config.json", `{
	"current": "ext",
	"profiles": [
		{
			"name": "ext",
			"mode": "External",
			"process_command": "`+script+` --profile 'a b'",
			"region_id": "cn-hangzhou",
			"output_format": "json",
			"language": "en"
		}
	],
	"meta_path": "",
	"plugin_settings": {"source_base": ""}
}
`)
	runs = func() int {
		b, _ := os.ReadFile(counter)
		return strings.Count(string(b), "run")
	}
	return e, config, runs
}

// Issue 20 §1: an External profile's command is run by the helper: 3 gets with an expiration are
// 1 command run, 1 token call and 1 cache entry, and the user's CLI config is byte-identical
// afterwards (credentials-go rewrote it after each fetch, with the command's AccessKey secret in
// it, and every rewrite was a new identity: 3 runs, 3 token calls, 3 entries).
func TestExternalProfileRunOnceNeverWritten(t *testing.T) {
	e, config, runs := externalEnv(t, "")
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
		if r.code != 0 || !strings.Contains(r.stdout, `"Secret"`) {
			t.Fatalf("get %d: %+v", i, r)
		}
		if strings.Contains(r.stderr, sk) || strings.Contains(r.stderr, "log line") {
			t.Errorf("get %d: stderr carries the command's output: %s", i, r.stderr)
		}
	}
	after, _ := os.ReadFile(config)
	if string(after) != string(before) {
		t.Errorf("the CLI config was rewritten:\n%s", after)
	}
	if n := runs(); n != 1 {
		t.Errorf("the command ran %d times, want 1", n)
	}
	if n := len(e.fc.IssuedTokens()); n != 1 {
		t.Errorf("%d token calls, want 1", n)
	}
	if n := len(cacheEntries(t, filepath.Join(e.home, "cache", "docker-credential-acr"))); n != 1 {
		t.Errorf("%d cache entries, want 1", n)
	}
}

// Issue 20 §1: a command that prints a log line before its JSON fails the get with a clear error
// naming the profile and the fix, and neither its output nor the command line reaches stderr.
func TestExternalProfileLogLineBeforeJSON(t *testing.T) {
	e, config, runs := externalEnv(t, "echo 'fetching credentials for "+sk+"'\n")
	before, _ := os.ReadFile(config)
	r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
	if r.code == 0 || runs() != 1 || len(e.fc.IssuedTokens()) != 0 {
		t.Fatalf("exit %d, %d runs, %d token calls: %+v", r.code, runs(), len(e.fc.IssuedTokens()), r)
	}
	for _, leak := range []string{sk, "fetching credentials", "a log line on stderr", "bin/creds", "a b"} {
		if strings.Contains(r.stdout+r.stderr, leak) {
			t.Errorf("output carries %q: %+v", leak, r)
		}
	}
	for _, want := range []string{`CLI profile "ext"`, "process_command", "not one JSON profile", "bytes before the JSON", "standard error"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if after, _ := os.ReadFile(config); string(after) != string(before) {
		t.Errorf("the CLI config was rewritten:\n%s", after)
	}
}

// Issue 20 §1: OAuth and CloudSSO profiles are refused with what to use instead, without a call,
// and the file is left as it is.
func TestOAuthAndCloudSSOProfilesRefused(t *testing.T) {
	e := newEnv(t)
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	doc := `{"current":"o","profiles":[{"name":"o","mode":"OAuth","oauth_site_type":"CN","oauth_refresh_token":"rt","oauth_access_token":"at","oauth_access_token_expire":1},` +
		`{"name":"s","mode":"CloudSSO","cloud_sso_sign_in_url":"http://127.0.0.1:1/","access_token":"x","cloud_sso_access_token_expire":1}]}`
	config := e.writeFile(".aliyun/config.json", doc)
	for _, p := range []string{"o", "s"} {
		e.vars["ALIBABA_CLOUD_PROFILE"] = p
		r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
		if r.code == 0 || !strings.Contains(r.stderr, "browser sign-in") || len(e.fc.Calls()) != 0 {
			t.Errorf("profile %s: %+v", p, r)
		}
	}
	if b, _ := os.ReadFile(config); string(b) != doc {
		t.Errorf("the CLI config was rewritten:\n%s", b)
	}
}

// cacheEntries are the token entries in dir (no lock, lookup or temporary files).
func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if len(n.Name()) == 64 && !strings.Contains(n.Name(), ".") {
			out = append(out, n.Name())
		}
	}
	return out
}

// Issue 20 §3: a KMS-held password (a GHCR token that keeps working) leaves the cache directory
// when its secretTTL is over, at the next run of the helper (here a cached get of another
// registry); it stayed for a day or more.
func TestKMSPasswordLeavesTheCacheAtSecretTTL(t *testing.T) {
	e := newSecretsEnv(t)
	e.config(strings.Replace(secretsConfig, "    secret: ghcr-pull\n    regionId: cn-hangzhou\n", "    secret: ghcr-pull\n    regionId: cn-hangzhou\n    secretTTL: 1s\n", 1))
	dir := filepath.Join(e.home, "cache", "docker-credential-acr")
	holding := func() []string {
		var out []string
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			if b, _ := os.ReadFile(filepath.Join(dir, n.Name())); strings.Contains(string(b), ghcrPW) {
				out = append(out, n.Name())
			}
		}
		return out
	}
	for _, h := range []string{"ghcr.io", "registry.cn-hangzhou.aliyuncs.com"} {
		if _, err := e.get(h); err != nil {
			t.Fatalf("%s: %v; stderr %s", h, err, lastStderr())
		}
	}
	if len(holding()) != 1 {
		t.Fatalf("the password is in %v, want one entry", holding())
	}
	st, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.List()
	var expires time.Time
	for _, en := range entries {
		if en.Host == "ghcr.io" {
			expires = en.ExpiresAt
		}
	}
	time.Sleep(time.Until(expires) + 10*time.Millisecond)
	before := len(e.fc.Calls())
	if _, err := e.get("registry.cn-hangzhou.aliyuncs.com"); err != nil || len(e.fc.Calls()) != before {
		t.Fatalf("cached get: %v, %d calls", err, len(e.fc.Calls())-before)
	}
	if h := holding(); len(h) != 0 {
		t.Errorf("after secretTTL the password is still in %v", h)
	}
}

// Issue 20 §5: control sequences chosen by whoever can write a KMS secret never reach the
// terminal: a user name holding them is refused (get-login-password, get), and a version id or
// stage holding them is shown stripped by doctor --online.
func TestControlSequencesFromSecretsNeverReachTheTerminal(t *testing.T) {
	e := newSecretsEnv(t)
	const esc = "\x1b]0;pwned\x07\x1b[2J\u202e\u009b31m"
	for _, s := range []fakecloud.Secret{
		{AccountID: acct, Region: "cn-hangzhou", Name: "hostile-user", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: mustJSON(map[string]string{"username": "bob" + esc, "password": "pw-hostile-user"})}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "hostile-version", Versions: []fakecloud.SecretVersion{{VersionID: "v1" + esc, Stages: []string{"ACSCurrent", "mine" + esc}, Data: `{"username": "carol", "password": "pw-hostile-version"}`}}},
	} {
		if err := e.fc.AddSecret(s); err != nil {
			t.Fatal(err)
		}
	}
	e.config(secretsConfig + `  - domains: [user.example.com]
    secret: hostile-user
    regionId: cn-hangzhou
  - domains: [version.example.com]
    secret: hostile-version
    regionId: cn-hangzhou
`)
	clean := func(name, s string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s holds %q: %q", name, bad, s)
			}
		}
	}
	for _, args := range [][]string{{"get-login-password", "user.example.com"}, {"get-login-password", "--username", "user.example.com"}} {
		r := e.run("", args...)
		clean(strings.Join(args, " "), r.stdout+r.stderr)
		if r.code == 0 || strings.Contains(r.stdout, "pw-hostile-user") || !strings.Contains(r.stderr, "control characters") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	r := e.run("", "doctor", "--online", "version.example.com")
	clean("doctor --online", r.stdout+r.stderr)
	if !strings.Contains(r.stdout, "user carol, version v1") || !strings.Contains(r.stdout, "mine") {
		t.Errorf("doctor lost the readable text: %s", r.stdout)
	}
	r = e.run("", "get-login-password", "version.example.com")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "pw-hostile-version" || !strings.Contains(r.stderr, "Username: carol") {
		t.Errorf("a clean user name: %+v", r)
	}
}

// Issue 20 §10: a KMS login over the cache's 64 KiB entry limit (here a 20 000-character password
// of '&', 6 bytes each once encoded) is not cached, so each get reads KMS: the first get warns
// once, naming the host and the fix; the next ones do not warn again.
func TestKMSLoginTooLargeToCacheWarnsOnce(t *testing.T) {
	e := newSecretsEnv(t)
	big := strings.Repeat("&", 20000)
	if err := e.fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-hangzhou", Name: "big-login",
		Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: mustJSON(map[string]string{"username": "big", "password": big})}}}); err != nil {
		t.Fatal(err)
	}
	e.config(secretsConfig + "  - domains: [big.example.com]\n    secret: big-login\n    regionId: cn-hangzhou\n")
	var warnings []int
	for i := 0; i < 3; i++ {
		c, err := e.get("big.example.com")
		if err != nil || c.Secret != big {
			t.Fatalf("get %d: %v; stderr %s", i, err, lastStderr())
		}
		warnings = append(warnings, strings.Count(lastStderr(), "larger than the cache's 64 KiB entry limit"))
		if strings.Contains(lastStderr(), "&&&&") {
			t.Errorf("the warning carries the password")
		}
	}
	if warnings[0] != 1 || warnings[1] != 0 || warnings[2] != 0 {
		t.Errorf("warnings per get %v, want [1 0 0]", warnings)
	}
	if n := len(e.kmsCalls()); n != 3 {
		t.Errorf("%d KMS calls, want 3 (not cached)", n)
	}
}

// Issue 20 §11: one Enterprise instance reached by its default domain and by a custom domain is
// one cache key once its id is known: one token call and one entry, whichever domain comes
// first (before: two keys, by name and by id, and two token calls).
func TestEnterpriseInstanceOneKeyForAllItsDomains(t *testing.T) {
	const defaultDomain, custom = "team-registry.cn-beijing.cr.aliyuncs.com", "registry.example.com"
	for _, order := range [][]string{{custom, defaultDomain}, {defaultDomain, custom}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			e := newEnv(t)
			e.config(customAndCrossConfig)
			var secrets []string
			for round := 0; round < 2; round++ {
				for _, h := range order {
					c, err := e.get(h)
					if err != nil {
						t.Fatalf("%s: %v; stderr %s", h, err, lastStderr())
					}
					secrets = append(secrets, c.Secret)
				}
			}
			if toks := e.fc.IssuedTokens(); len(toks) != 1 || toks[0].InstanceID != teamID {
				t.Errorf("%d token calls (%+v), want 1 for instance %s", len(toks), toks, teamID)
			}
			for _, s := range secrets[1:] {
				if s != secrets[0] {
					t.Errorf("two logins for one instance")
				}
			}
			if n := len(cacheEntries(t, filepath.Join(e.home, "cache", "docker-credential-acr"))); n != 1 {
				t.Errorf("%d cache entries, want 1", n)
			}
		})
	}
}
