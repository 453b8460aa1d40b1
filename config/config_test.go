package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DOCKER_CREDENTIAL_ACR_") || strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "XDG_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_DIRS", t.TempDir())
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
			clearEnv(t)
			p := write(t, tt.body)
			t.Setenv(EnvConfig, p)
			c, err := Load()
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
	clearEnv(t)
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_DIRS", dir)
	if err := os.MkdirAll(filepath.Join(dir, "docker-credential-acr"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "docker-credential-acr", "config.yaml")
	if err := os.WriteFile(p, []byte("strict: false\nendpoints: {cr: from-file.example}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvStrict, "1")
	t.Setenv(EnvTimeout, "5s")
	t.Setenv(EnvCREndpoint, "http://127.0.0.1:1")
	t.Setenv(EnvVPC, "true")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p || !c.Strict || c.Timeout != 5*time.Second || c.Endpoints.CR != "http://127.0.0.1:1" || !c.VPC {
		t.Errorf("got %+v", c)
	}
	t.Setenv(EnvTimeout, "forever")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), EnvTimeout) {
		t.Errorf("bad timeout: err = %v", err)
	}
}

func TestExplicitMissingFileIsAnError(t *testing.T) {
	clearEnv(t)
	t.Setenv(EnvConfig, filepath.Join(t.TempDir(), "nope.yaml"))
	if _, err := Load(); err == nil {
		t.Fatal("want an error for a missing explicit config file")
	}
}

func TestHugeFileRejected(t *testing.T) {
	clearEnv(t)
	p := write(t, "# "+strings.Repeat("x", maxFileSize+10))
	t.Setenv(EnvConfig, p)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
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
