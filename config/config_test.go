package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is the environment of one test: no process environment is read or changed, so the tests
// run in parallel. The XDG dirs point into the test's temp dir so that no real config is found.
func env(t *testing.T, kv ...string) func(string) string {
	t.Helper()
	m := map[string]string{"XDG_CONFIG_HOME": t.TempDir(), "XDG_CONFIG_DIRS": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string // substring; "" = no error
		check   func(t *testing.T, c *Config)
	}{
		{name: "empty file", body: "", check: func(t *testing.T, c *Config) {
			if c.ExpiringThreshold != 15*time.Minute || len(c.Registries) != 0 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "issue example", body: `
expiringThreshold: 15m
registries:
  - domains: [registry.example.com]
    instanceId: cri-xxxxxxxxxxxxxxxx
    regionId: cn-beijing
    arnService: acs:ram::111111111111:role/role-assume
    arnUser: acs:ram::222222222222:role/role-acr
    externalId: optional
    expireDuration: 3600
`, check: func(t *testing.T, c *Config) {
			r := c.Registries[0]
			if r.Domains[0] != "registry.example.com" || r.InstanceID != "cri-xxxxxxxxxxxxxxxx" || r.RegionID != "cn-beijing" ||
				r.ArnService != "acs:ram::111111111111:role/role-assume" || r.ArnUser != "acs:ram::222222222222:role/role-acr" ||
				r.ExternalID != "optional" || r.ExpireDuration != 3600 || r.RoleSessionName != DefaultRoleSessionName {
				t.Errorf("got %+v", r)
			}
		}},
		{name: "ECI names", body: `{"registries":[{"Domains":["a.example.com"],"InstanceId":"cri-1","RegionId":"cn-hangzhou","ArnService":"acs:ram::1:role/a","ArnUser":"acs:ram::2:role/b"}]}`,
			check: func(t *testing.T, c *Config) {
				r := c.Registries[0]
				if r.ArnService != "acs:ram::1:role/a" || r.ArnUser != "acs:ram::2:role/b" || r.RegionID != "cn-hangzhou" {
					t.Errorf("got %+v", r)
				}
			}},
		{name: "ACK add-on names", body: `
instances:
  - instanceID: cri-abc
    regionID: cn-shanghai
    domains: "x.example.com, y.example.com:5443"
    assumeRoleARN: acs:ram::2:role/acr
    expireDuration: 43200
    rrsaRoleARN: acs:ram::1:role/rrsa
    rrsaOIDCProviderRoleARN: acs:ram::1:oidc-provider/ack-rrsa
`, check: func(t *testing.T, c *Config) {
			r := c.Registries[0]
			if len(r.Domains) != 2 || r.Domains[1] != "y.example.com:5443" || r.ArnUser != "acs:ram::2:role/acr" ||
				r.RRSARoleARN != "acs:ram::1:role/rrsa" || r.RRSAOIDCProviderARN != "acs:ram::1:oidc-provider/ack-rrsa" || r.ExpireDuration != 43200 {
				t.Errorf("got %+v", r)
			}
		}},
		{name: "top switches", body: "strict: true\nvpc: yes\necsMetadata: true\npersonalInstanceTokens: true\ntimeout: 30s\nendpoints: {cr: 'cr.{region}.example', sts: sts.example}\n",
			check: func(t *testing.T, c *Config) {
				if !c.Strict || !c.VPC || !c.ECSMetadata || !c.PersonalInstanceTokens || c.Timeout != 30*time.Second ||
					c.Endpoints.CR != "cr.{region}.example" || c.Endpoints.STS != "sts.example" {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "bad sts endpoint", body: "endpoints:\n  sts: 'https://sts.example.com/path'\n", wantErr: ":2: endpoints.sts: sts endpoint \"https://sts.example.com/path\" is not host[:port]"},
		{name: "plain http sts endpoint", body: "endpoints: {sts: 'http://sts.example.com'}\n", wantErr: "endpoints.sts: sts endpoint \"http://sts.example.com\" uses plain http"},
		{name: "bad cr endpoint", body: "endpoints: {cr: 'cr {region}'}\n", wantErr: "endpoints.cr: cr endpoint"},
		{name: "typo drops no role", body: "registries:\n  - arnUsr: acs:ram::2:role/x\n", wantErr: "registries[0].arnUsr: unknown key"},
		{name: "unknown top key", body: "expiringThreshhold: 5m\n", wantErr: "expiringThreshhold: unknown key"},
		{name: "bad duration", body: "expiringThreshold: soon\n", wantErr: `"soon": must be a duration`},
		{name: "bad threshold range", body: "expiringThreshold: 13h\n", wantErr: "between 0s and 12h"},
		{name: "bad bool", body: "strict: maybe\n", wantErr: "must be true or false"},
		{name: "bad instance id", body: "registries:\n  - instanceId: i-123\n", wantErr: "not an ACR instance id"},
		{name: "bad arn", body: "registries:\n  - arnUser: role-acr\n", wantErr: "not a RAM role ARN"},
		{name: "bad domain", body: "registries:\n  - domains: [https://registry.example.com/v2]\n", wantErr: "is not a host name"},
		{name: "bad expire", body: "registries:\n  - arnUser: acs:ram::2:role/x\n    expireDuration: 60\n", wantErr: "outside 900..43200"},
		{name: "external id alone", body: "registries:\n  - externalId: x\n", wantErr: "no role is"},
		{name: "rrsa half", body: "registries:\n  - rrsaRoleARN: acs:ram::1:role/x\n", wantErr: "go together"},
		{name: "duplicate alias", body: "registries:\n  - arnUser: acs:ram::2:role/x\n    assumeRoleARN: acs:ram::2:role/y\n", wantErr: "given twice"},
		{name: "not a mapping", body: "- a\n- b\n", wantErr: "top level must be a mapping"},
		{name: "registries not list", body: "registries: {a: b}\n", wantErr: "must be a list"},
		{name: "broken yaml", body: "registries: [\n", wantErr: "not valid YAML"},
		{name: "alias bomb", body: "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", wantErr: "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, tt.body)
			c, err := Load(env(t, EnvConfig, p))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Path != p {
				t.Errorf("Path = %q", c.Path)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadFindsXDGFileAndEnvOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docker-credential-acr"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "docker-credential-acr", "config.yaml")
	if err := os.WriteFile(p, []byte("strict: false\nendpoints: {cr: from-file.example}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := []string{"XDG_CONFIG_DIRS", dir, envStrict, "1", envTimeout, "5s", envCREndpoint, "http://127.0.0.1:1", envVPC, "true"}
	c, err := Load(env(t, vars...))
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p || !c.Strict || c.Timeout != 5*time.Second || c.Endpoints.CR != "http://127.0.0.1:1" || !c.STSVPCEnv || c.VPC {
		t.Errorf("got %+v", c)
	}
	if _, err := Load(env(t, append(vars, envTimeout, "forever")...)); err == nil || !strings.Contains(err.Error(), envTimeout) {
		t.Errorf("bad timeout: err = %v", err)
	}
	// A bad endpoint override in the environment is an error that names the variable.
	for _, v := range []string{envCREndpoint, envSTSEndpoint} {
		if _, err := Load(env(t, append(vars, v, "https://sts.example.com/x")...)); err == nil || !strings.Contains(err.Error(), v+": ") || !strings.Contains(err.Error(), "not host[:port]") {
			t.Errorf("bad %s: err = %v", v, err)
		}
	}
	// The same file by its path.
	c, err = LoadFile(p, env(t))
	if err != nil || c.Path != p || c.Strict || c.Endpoints.CR != "from-file.example" {
		t.Errorf("LoadFile: %+v, %v", c, err)
	}
	if _, err := LoadFile(filepath.Join(dir, "nope.yaml"), env(t)); err == nil {
		t.Error("LoadFile of a missing file: no error")
	}
}

func TestExplicitMissingFileIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := Load(env(t, EnvConfig, filepath.Join(t.TempDir(), "nope.yaml"))); err == nil {
		t.Fatal("want an error for a missing explicit config file")
	}
}

func TestHugeFileRejected(t *testing.T) {
	t.Parallel()
	p := write(t, "# "+strings.Repeat("x", maxFileSize+10))
	if _, err := Load(env(t, EnvConfig, p)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

// The directory rules that cache.DefaultDir and cache.LoginsDir had.
func TestDirs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		env                 []string
		wantCache, wantData string // relative to the test's temp dir; "" = none
		wantWarn            string
		noCache             bool
	}{
		{name: "explicit dirs", env: []string{EnvCacheDir, "{tmp}/c", EnvDataDir, "{tmp}/d"}, wantCache: "c", wantData: "d"},
		{name: "explicit wins over XDG", env: []string{EnvCacheDir, "{tmp}/c", "XDG_CACHE_HOME", "{tmp}/xc", EnvDataDir, "{tmp}/d", "XDG_DATA_HOME", "{tmp}/xd"}, wantCache: "c", wantData: "d"},
		{name: "XDG homes", env: []string{"XDG_CACHE_HOME", "{tmp}/xc", "XDG_DATA_HOME", "{tmp}/xd"}, wantCache: "xc/docker-credential-acr", wantData: "xd/docker-credential-acr"},
		{name: "relative explicit cache dir", env: []string{EnvCacheDir, "rel/dir", EnvDataDir, "{tmp}/d"}, wantData: "d", wantWarn: "running without the token cache: " + EnvCacheDir + `="rel/dir" is not an absolute path`},
		{name: "relative explicit data dir", env: []string{EnvCacheDir, "{tmp}/c", EnvDataDir, "rel"}, wantCache: "c", wantWarn: "`docker login` credentials is not available: " + EnvDataDir},
		{name: "NO_CACHE=1", env: []string{envNoCache, "1", EnvCacheDir, "rel/ignored", EnvDataDir, "{tmp}/d"}, wantData: "d", noCache: true},
		{name: "NO_CACHE=true", env: []string{envNoCache, "true", EnvCacheDir, "{tmp}/c", EnvDataDir, "{tmp}/d"}, wantData: "d", noCache: true},
		{name: "NO_CACHE=0", env: []string{envNoCache, "0", EnvCacheDir, "{tmp}/c", EnvDataDir, "{tmp}/d"}, wantCache: "c", wantData: "d"},
		{name: "NO_CACHE=off", env: []string{envNoCache, "off", EnvCacheDir, "{tmp}/c", EnvDataDir, "{tmp}/d"}, wantCache: "c", wantData: "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			var kv []string
			for _, v := range tt.env {
				kv = append(kv, strings.ReplaceAll(v, "{tmp}", tmp))
			}
			c, err := Load(env(t, kv...))
			if err != nil {
				t.Fatal(err)
			}
			rel := func(d string) string {
				if d == "" {
					return ""
				}
				return filepath.Join(tmp, d)
			}
			if c.CacheDir != rel(tt.wantCache) || c.DataDir != rel(tt.wantData) || c.NoCache != tt.noCache {
				t.Errorf("CacheDir %q DataDir %q NoCache %v", c.CacheDir, c.DataDir, c.NoCache)
			}
			warned := strings.Join(c.Warnings, "\n")
			if tt.wantWarn == "" && warned != "" || !strings.Contains(warned, tt.wantWarn) {
				t.Errorf("warnings %q, want %q", warned, tt.wantWarn)
			}
		})
	}
	if _, err := Load(env(t, envNoCache, "maybe")); err == nil || !strings.Contains(err.Error(), envNoCache) {
		t.Errorf("NO_CACHE=maybe: err = %v", err)
	}
	if c, err := Load(env(t, EnvLogLevel, "debug")); err != nil || c.LogLevel != "debug" || LogLevel(env(t, EnvLogLevel, "info")) != "info" {
		t.Errorf("log level: %+v %v", c, err)
	}
}

func TestMatch(t *testing.T) {
	c := &Config{Registries: []Registry{
		{Domains: []string{"a.example.com"}, InstanceID: "cri-a", index: 0},
		{InstanceID: "cri-b", index: 1},
		{ArnUser: "acs:ram::1:role/default", index: 2},
	}}
	eq := func(d string) func(string) bool { return func(x string) bool { return x == d } }
	tests := []struct {
		host, instance string
		want           int
	}{
		{"a.example.com", "", 0},
		{"b.example.com", "cri-b", 1},
		{"b.example.com", "CRI-B", 1},
		{"other", "", 2},
		{"other", "cri-zzz", 2},
	}
	for _, tt := range tests {
		got := c.Match(eq(tt.host), tt.instance)
		if got == nil || got.index != tt.want {
			t.Errorf("Match(%q, %q) = %+v, want entry %d", tt.host, tt.instance, got, tt.want)
		}
	}
	if (&Config{}).Match(eq("x"), "") != nil {
		t.Error("empty config matched")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "registries: []", "expiringThreshold: 15m\nregistries:\n  - domains: [a.b]\n    instanceId: cri-1\n", "a: &a [*a]", "{", "registries:\n - domains: 'x,y'\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Config{}
		_ = c.parse("fuzz.yaml", data) // must not panic or hang
	})
}
