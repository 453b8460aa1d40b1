package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSettingsFromConfig(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		hosts [][]string
		err   string
	}{
		{name: "enterprise default domain and custom domain",
			yaml:  "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    domains: team-registry-vpc.cn-hangzhou.cr.aliyuncs.com, registry.example.com\n",
			hosts: [][]string{{"team-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "team-registry.cn-hangzhou.cr.aliyuncs.com", "registry.example.com"}}},
		{name: "personal of a region",
			yaml:  "registries:\n  - regionId: cn-beijing\n",
			hosts: [][]string{{"registry.cn-beijing.aliyuncs.com", "registry-vpc.cn-beijing.aliyuncs.com", "registry-internal.cn-beijing.aliyuncs.com", "registry-intl.cn-beijing.aliyuncs.com", "registry-intl-vpc.cn-beijing.aliyuncs.com"}}},
		{name: "personal intl host",
			yaml:  "registries:\n  - domains: [registry-intl.ap-southeast-1.aliyuncs.com]\n",
			hosts: [][]string{{"registry-intl.ap-southeast-1.aliyuncs.com", "registry.ap-southeast-1.aliyuncs.com", "registry-vpc.ap-southeast-1.aliyuncs.com", "registry-internal.ap-southeast-1.aliyuncs.com", "registry-intl-vpc.ap-southeast-1.aliyuncs.com"}}},
		{name: "personal instance",
			yaml:  "personalInstanceTokens: true\nregistries:\n  - instanceId: crpi-abc123\n    regionId: cn-hangzhou\n",
			hosts: [][]string{{"crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com", "crpi-abc123-vpc.cn-hangzhou.personal.cr.aliyuncs.com"}}},
		{name: "two entries", yaml: "registries:\n  - regionId: cn-beijing\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-hangzhou\n    domains: [r.example.com]\n",
			hosts: [][]string{{"registry.cn-beijing.aliyuncs.com", "registry-vpc.cn-beijing.aliyuncs.com", "registry-internal.cn-beijing.aliyuncs.com", "registry-intl.cn-beijing.aliyuncs.com", "registry-intl-vpc.cn-beijing.aliyuncs.com"}, {"r.example.com"}}},
		// The add-on's form: the instance's domains come from ListInstanceEndpoint at each refresh.
		{name: "instance id alone", yaml: "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-hangzhou\n", hosts: [][]string{nil}},
		{name: "instance id without region, region unknown", yaml: "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n", err: "registries[0] (cri-aaaaaaaaaaaaaaaa) names no regionId"},
		{name: "KMS secret entry skipped", yaml: "registries:\n  - domains: [docker.io]\n    secret: acs:kms:cn-hangzhou:111111111111:secret/dockerhub\n  - regionId: cn-beijing\n",
			hosts: [][]string{{"registry.cn-beijing.aliyuncs.com", "registry-vpc.cn-beijing.aliyuncs.com", "registry-internal.cn-beijing.aliyuncs.com", "registry-intl.cn-beijing.aliyuncs.com", "registry-intl-vpc.cn-beijing.aliyuncs.com"}}},
		{name: "enterprise domain without instance", yaml: "registries:\n  - domains: [team-registry.cn-hangzhou.cr.aliyuncs.com]\n", err: "add instanceId"},
		{name: "custom domain without region", yaml: "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    domains: [r.example.com]\n", err: "needs instanceId and regionId"},
		{name: "personal without region", yaml: "registries:\n  - arnUser: acs:ram::1:role/x\n", err: "registries[0] names no regionId, and the cluster's region is unknown"},
		// Two Personal Edition entries (the add-on's regionID alone), one per region: two registries.
		{name: "personal of two regions", yaml: "registries:\n  - regionId: cn-beijing\n  - regionId: cn-hangzhou\n",
			hosts: [][]string{{"registry.cn-beijing.aliyuncs.com", "registry-vpc.cn-beijing.aliyuncs.com", "registry-internal.cn-beijing.aliyuncs.com", "registry-intl.cn-beijing.aliyuncs.com", "registry-intl-vpc.cn-beijing.aliyuncs.com"}, {"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com", "registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl.cn-hangzhou.aliyuncs.com", "registry-intl-vpc.cn-hangzhou.aliyuncs.com", "registry.aliyuncs.com"}}},
		{name: "personal of one region twice", yaml: "registries:\n  - regionId: cn-beijing\n  - regionId: cn-beijing\n", err: "already the entry for the Personal Edition hosts of cn-beijing"},
		{name: "one host two entries", yaml: "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-hangzhou\n    domains: [r.example.com]\n  - instanceId: cri-bbbbbbbbbbbbbbbb\n    regionId: cn-hangzhou\n    domains: [r.example.com, s.example.com]\n", err: "r.example.com is also listed by registries[0]"},
		{name: "one host two entries, second listed later", yaml: "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-hangzhou\n    domains: [r.example.com]\n  - instanceId: cri-bbbbbbbbbbbbbbbb\n    regionId: cn-hangzhou\n    domains: [s.example.com, r.example.com]\n", err: "r.example.com is also listed by registries[0]"},
		{name: "unknown key", yaml: "watchNamespaec: a\n", err: "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			must(t, os.WriteFile(p, []byte(tt.yaml), 0o600))
			s, err := loadSettings(context.Background(), fileSource{p}, settingsEnv{}, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			must(t, err)
			if len(s.Registries) != len(tt.hosts) {
				t.Fatalf("%d registries, want %d", len(s.Registries), len(tt.hosts))
			}
			for i, r := range s.Registries {
				if !slices.Equal(r.Hosts, tt.hosts[i]) {
					t.Errorf("registries[%d] hosts %v, want %v", i, r.Hosts, tt.hosts[i])
				}
			}
			if !slices.Equal(s.Namespaces, []string{"default"}) || !slices.Equal(s.ServiceAccounts, []string{"default"}) || s.Threshold <= 0 {
				t.Errorf("defaults: %v %v %v", s.Namespaces, s.ServiceAccounts, s.Threshold)
			}
		})
	}
}

// The registry key survives a reload that changes nothing, and changes when the entry does.
func TestRegistryKeyStable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	load := func(y string) string {
		must(t, os.WriteFile(p, []byte(y), 0o600))
		s, err := loadSettings(context.Background(), fileSource{p}, settingsEnv{}, nil)
		must(t, err)
		return s.Registries[0].Key
	}
	a := load("registries:\n  - regionId: cn-beijing\n")
	b := load("# comment\nwatchNamespace: other\nregistries:\n  - regionId: cn-beijing\n")
	c := load("registries:\n  - regionId: cn-beijing\n    arnUser: acs:ram::1:role/x\n")
	if a != b || a == c {
		t.Errorf("keys: unchanged %v, changed %v", a == b, a != c)
	}
}
