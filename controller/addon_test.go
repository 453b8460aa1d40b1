package main

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The add-on's entries against the fake cloud, without a cluster: what each entry serves and how
// many calls a refresh costs.

func addonCloud(t *testing.T) *fakecloud.Server {
	t.Helper()
	cleanEnv(t)
	fc := fakecloud.New()
	must(t, fc.AddUser(fakecloud.User{AccountID: acctA, Name: "ctrl", AccessKeyID: devAK, AccessKeySecret: devSK, RegistryPassword: true}))
	must(t, fc.AddInstance(fakecloud.Instance{AccountID: acctA, ID: teamID, Name: "team", Region: "cn-hangzhou", CustomDomains: []string{"registry.example.com"}}))
	fc.SetMetadataRegion("cn-shanghai")
	must(t, fc.Start())
	t.Cleanup(fc.Close)
	return fc
}

// addonConfig is an add-on ConfigMap's data read as the controller reads it, with the fake's
// endpoints (and AccessKey, unless the entry has its own) from the environment.
func addonConfig(t *testing.T, fc *fakecloud.Server, data map[string]string, withAK bool) *config.Config {
	t.Helper()
	env := map[string]string{
		"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT": "http://" + fc.Endpoint(), "ALIBABA_CLOUD_STS_ENDPOINT": "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true", "DOCKER_CREDENTIAL_ACR_NO_CACHE": "true", "HOME": t.TempDir(),
	}
	if withAK {
		env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = devAK, devSK
	}
	cfg, err := config.LoadMap("ConfigMap kube-system/acr-configuration", data, func(k string) string { return env[k] })
	must(t, err)
	return cfg
}

func TestAddonEntries(t *testing.T) {
	fc := addonCloud(t)
	ctx := context.Background()
	metadataRegion := settingsEnv{addon: true}
	tests := []struct {
		name    string
		info    string
		env     settingsEnv
		akInEnv bool
		// want: per registry its hosts after one fetch; calls: ListInstanceEndpoint and token calls.
		want          [][]string
		endpointCalls int
		tokenCalls    int
		metadataCalls bool
	}{
		{name: "instance without domains: every domain of the instance, one ListInstanceEndpoint",
			info: "- instanceId: " + teamID + "\n  regionId: cn-hangzhou\n  domains: ''\n", akInEnv: true,
			want:          [][]string{{"registry.example.com", "team-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "team-registry.cn-hangzhou.cr.aliyuncs.com"}},
			endpointCalls: 1, tokenCalls: 1},
		{name: "instance without region: the cluster's (--region)",
			info: "- instanceId: " + teamID + "\n", env: settingsEnv{addon: true, region: &clusterRegion{flag: "cn-hangzhou"}}, akInEnv: true,
			want:          [][]string{{"registry.example.com", "team-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "team-registry.cn-hangzhou.cr.aliyuncs.com"}},
			endpointCalls: 1, tokenCalls: 1},
		{name: "empty acr-registry-info: Personal Edition of the metadata's region",
			info: "", env: metadataRegion, akInEnv: true, metadataCalls: true,
			want:       [][]string{{"registry-internal.cn-shanghai.aliyuncs.com", "registry-intl-vpc.cn-shanghai.aliyuncs.com", "registry-intl.cn-shanghai.aliyuncs.com", "registry-vpc.cn-shanghai.aliyuncs.com", "registry.cn-shanghai.aliyuncs.com"}},
			tokenCalls: 1},
		{name: "instanceId '' and no region: Personal Edition of the cluster's region",
			info: "- instanceId: ''\n", env: settingsEnv{addon: true, region: &clusterRegion{flag: "cn-hangzhou"}}, akInEnv: true,
			want:       [][]string{{"registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl-vpc.cn-hangzhou.aliyuncs.com", "registry-intl.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com", "registry.aliyuncs.com", "registry.cn-hangzhou.aliyuncs.com"}},
			tokenCalls: 1},
		{name: "customAccessKey: the entry's own AccessKey, none in the environment",
			info:          "- instanceId: " + teamID + "\n  regionId: cn-hangzhou\n  customAccessKey: " + devAK + "\n  customAccessKeySecret: " + devSK + "\n",
			want:          [][]string{{"registry.example.com", "team-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "team-registry.cn-hangzhou.cr.aliyuncs.com"}},
			endpointCalls: 1, tokenCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc.ResetCalls()
			if tt.env.region == nil {
				tt.env.region = &clusterRegion{}
			}
			if tt.metadataCalls {
				tt.env.region.base = fc.MetadataProxyURL()
			} else {
				tt.env.region.base = "http://127.0.0.1:1" // never asked: a refused port if it were
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg := addonConfig(t, fc, map[string]string{"acr-registry-info": tt.info}, tt.akInEnv)
			s, err := settingsFrom(ctx, cfg, tt.env, log)
			must(t, err)
			if len(s.Registries) != len(tt.want) {
				t.Fatalf("%d registries, want %d", len(s.Registries), len(tt.want))
			}
			for i, r := range s.Registries {
				tok, err := r.Fetch(ctx)
				must(t, err)
				hosts := append([]string{}, r.Hosts...)
				if len(tok.Hosts) > 0 {
					hosts = append([]string{}, tok.Hosts...)
				}
				slices.Sort(hosts)
				if !slices.Equal(hosts, tt.want[i]) {
					t.Errorf("registry %d serves %v, want %v", i, hosts, tt.want[i])
				}
				if tok.Username == "" || tok.Password == "" {
					t.Errorf("registry %d: empty login", i)
				}
			}
			if got := fc.Count("ListInstanceEndpoint"); got != tt.endpointCalls {
				t.Errorf("%d ListInstanceEndpoint calls, want %d", got, tt.endpointCalls)
			}
			if got := len(fc.IssuedTokens()); got < tt.tokenCalls {
				t.Errorf("%d tokens issued in all, want at least %d", got, tt.tokenCalls)
			}
			if got := fc.Count(fakecloud.MetadataRegionID); (got > 0) != tt.metadataCalls {
				t.Errorf("%d region-id calls to the metadata service", got)
			}
			if strings.Contains(logs.String(), devSK) {
				t.Error("the log shows the AccessKey secret")
			}
		})
	}
}

func TestAddonEntryErrors(t *testing.T) {
	fc := addonCloud(t)
	ctx := context.Background()
	for _, tt := range []struct{ name, info, err string }{
		{"no region anywhere", "- instanceId: " + teamID + "\n", "registries[0] (" + teamID + ") names no regionId, and the cluster's region is unknown"},
		{"empty list, no region", "[]", "the Personal Edition of the cluster's region"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := addonConfig(t, fc, map[string]string{"acr-registry-info": tt.info}, true)
			// The metadata service answers 404 for region-id (the fake has none set here).
			fc.SetMetadataRegion("")
			defer fc.SetMetadataRegion("cn-shanghai")
			_, err := settingsFrom(ctx, cfg, settingsEnv{addon: true, region: &clusterRegion{base: fc.MetadataProxyURL()}}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--region") {
				t.Fatalf("error %v, want one containing %q and naming --region", err, tt.err)
			}
		})
	}
}

// customAccessKey is warned about once, not at every reload, and the log never shows the secret.
func TestAccessKeyWarnedOnce(t *testing.T) {
	fc := addonCloud(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	env := settingsEnv{addon: true, region: &clusterRegion{flag: "cn-hangzhou"}, warned: map[string]bool{}}
	for range 3 {
		cfg := addonConfig(t, fc, map[string]string{"acr-registry-info": "- instanceId: " + teamID + "\n  regionId: cn-hangzhou\n  customAccessKey: " + devAK + "\n  customAccessKeySecret: " + devSK + "\n"}, false)
		_, err := settingsFrom(context.Background(), cfg, env, log)
		must(t, err)
	}
	if n := strings.Count(logs.String(), "prefer RRSA"); n != 1 {
		t.Errorf("%d customAccessKey warnings for 3 loads, want 1", n)
	}
	if strings.Contains(logs.String(), devSK) {
		t.Error("the log shows the AccessKey secret")
	}
}
