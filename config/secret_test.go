package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

func TestSecretEntries(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string // substring; "" = no error
		check   func(t *testing.T, c *Config)
	}{
		{name: "issue example", body: `
registries:
  - domains: [ghcr.io]
    secret: ghcr-pull
    regionId: cn-hangzhou
  - domains: [docker.io]
    secret: acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull
    arnUser: acs:ram::222222222222:role/secrets-reader
`, check: func(t *testing.T, c *Config) {
			g, d := c.Registries[0], c.Registries[1]
			if g.Secret == nil || g.Secret.Ref.Name != "ghcr-pull" || g.Secret.Ref.Region != "cn-hangzhou" || g.Secret.Ref.Account != "" ||
				g.Secret.Stage != secrets.DefaultStage || g.Secret.TTL != secrets.DefaultTTL {
				t.Errorf("ghcr entry: %+v", g.Secret)
			}
			if d.Secret == nil || d.Secret.Ref.ARN() != "acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull" || d.RegionID != "cn-shanghai" ||
				d.ArnUser != "acs:ram::222222222222:role/secrets-reader" {
				t.Errorf("docker.io entry: %+v %+v", d, d.Secret)
			}
		}},
		{name: "stage and ttl", body: `
registries:
  - domains: [quay.io]
    secret: quay
    regionId: cn-beijing
    versionStage: ACSPrevious
    secretTTL: 90s
`, check: func(t *testing.T, c *Config) {
			if s := c.Registries[0].Secret; s.Stage != "ACSPrevious" || s.TTL != 90*time.Second {
				t.Errorf("%+v", s)
			}
		}},
		{name: "ttl in seconds", body: "registries:\n  - domains: [quay.io]\n    secret: quay\n    regionId: cn-beijing\n    secretTTL: 3600\n",
			check: func(t *testing.T, c *Config) {
				if c.Registries[0].Secret.TTL != time.Hour {
					t.Errorf("%v", c.Registries[0].Secret.TTL)
				}
			}},
		{name: "docker hub aliases are one domain", body: `
registries:
  - domains: ["https://index.docker.io/v1/", index.docker.io, REGISTRY-1.docker.io, docker.io]
    secret: hub
    regionId: cn-hangzhou
`, check: func(t *testing.T, c *Config) {
			if want := []string{"docker.io", "docker.io", "docker.io", "docker.io"}; !reflect.DeepEqual(c.Registries[0].Domains, want) {
				t.Errorf("domains %q", c.Registries[0].Domains)
			}
		}},
		{name: "comma-separated docker hub", body: "registries:\n  - domains: 'index.docker.io, ghcr.io'\n    secret: hub\n    regionId: cn-hangzhou\n",
			check: func(t *testing.T, c *Config) {
				if want := []string{"docker.io", "ghcr.io"}; !reflect.DeepEqual(c.Registries[0].Domains, want) {
					t.Errorf("domains %q", c.Registries[0].Domains)
				}
			}},
		{name: "no region", body: "registries:\n  - domains: [ghcr.io]\n    secret: ghcr-pull\n", wantErr: "has no region: set regionId"},
		{name: "arn and other region", body: "registries:\n  - domains: [ghcr.io]\n    secret: acs:kms:cn-shanghai:222222222222:secret/x\n    regionId: cn-hangzhou\n", wantErr: "lives in cn-shanghai but the entry's regionId is cn-hangzhou"},
		{name: "bad arn", body: "registries:\n  - domains: [ghcr.io]\n    secret: acs:kms:cn-shanghai:x:secret/x\n", wantErr: "is not an account id"},
		{name: "bad name", body: "registries:\n  - domains: [ghcr.io]\n    secret: 'a b'\n    regionId: cn-hangzhou\n", wantErr: "is not a KMS secret name"},
		{name: "with instance", body: "registries:\n  - domains: [ghcr.io]\n    instanceId: cri-aaaaaaaaaaaaaaaa\n    secret: s\n    regionId: cn-hangzhou\n", wantErr: "remove instanceId"},
		{name: "catch-all", body: "registries:\n  - secret: s\n    regionId: cn-hangzhou\n", wantErr: "must list the registries it serves"},
		{name: "stage without secret", body: "registries:\n  - domains: [ghcr.io]\n    versionStage: ACSCurrent\n", wantErr: "versionStage: is set but secret is not"},
		{name: "ttl without secret", body: "registries:\n  - domains: [ghcr.io]\n    secretTTL: 5m\n", wantErr: "secretTTL: is set but secret is not"},
		{name: "bad stage", body: "registries:\n  - domains: [ghcr.io]\n    secret: s\n    regionId: cn-hangzhou\n    versionStage: 'a b'\n", wantErr: "is not a version stage"},
		{name: "ttl too long", body: "registries:\n  - domains: [ghcr.io]\n    secret: s\n    regionId: cn-hangzhou\n    secretTTL: 2h\n", wantErr: "a rotated secret must be picked up within the hour"},
		{name: "ttl zero", body: "registries:\n  - domains: [ghcr.io]\n    secret: s\n    regionId: cn-hangzhou\n    secretTTL: 0\n", wantErr: "must be a duration from 1s to 1h"},
		{name: "ttl not a duration", body: "registries:\n  - domains: [ghcr.io]\n    secret: s\n    regionId: cn-hangzhou\n    secretTTL: soon\n", wantErr: "must be a duration"},
		{name: "secret twice", body: "registries:\n  - domains: [ghcr.io]\n    secret: s\n    Secret: t\n    regionId: cn-hangzhou\n", wantErr: "given twice"},
		{name: "kms endpoint", body: "endpoints:\n  kms: kms.{region}.example.com\n", check: func(t *testing.T, c *Config) {
			if c.Endpoints.KMS != "kms.{region}.example.com" {
				t.Errorf("%q", c.Endpoints.KMS)
			}
		}},
		{name: "kms endpoint plain http", body: "endpoints:\n  kms: http://kms.example.com\n", wantErr: "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadFile(write(t, tt.body), env(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "config file ") || !strings.Contains(err.Error(), ".yaml:") {
					t.Errorf("error %q does not name the file and line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestKMSEndpointFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := LoadFile(write(t, ""), env(t, envKMSEndpoint, "http://127.0.0.1:9"))
	if err != nil || c.Endpoints.KMS != "http://127.0.0.1:9" {
		t.Fatalf("%v %+v", err, c)
	}
	if _, err := LoadFile(write(t, ""), env(t, envKMSEndpoint, "http://kms.example.com")); err == nil || !strings.Contains(err.Error(), envKMSEndpoint) {
		t.Errorf("plain http to a remote host: %v", err)
	}
}

func TestDomainsListEveryDockerHubName(t *testing.T) {
	t.Parallel()
	c, err := LoadFile(write(t, "registries:\n  - domains: [docker.io, ghcr.io]\n    secret: s\n    regionId: cn-hangzhou\n  - domains: [registry.example.com]\n    instanceId: cri-aaaaaaaaaaaaaaaa\n"), env(t))
	if err != nil {
		t.Fatal(err)
	}
	want := append(secrets.DockerHubAliases(), "ghcr.io", "registry.example.com")
	if got := c.Domains(); !reflect.DeepEqual(got, want) {
		t.Errorf("Domains() = %q, want %q", got, want)
	}
}
