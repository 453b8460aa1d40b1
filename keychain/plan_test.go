package keychain

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// serves is the one answer to "is this host mine": ACR default domains always, other hosts only
// when an entry lists them (a catch-all entry or an instance entry does not).
func TestServes(t *testing.T) {
	k := &Keychain{Config: &config.Config{Registries: []config.Registry{
		{InstanceID: "cri-aaaaaaaaaaaaaaaa"},
		{},
		{Domains: []string{"registry.example.com", "other.example.com:5443"}, InstanceID: "cri-bbbbbbbbbbbbbbbb"},
	}}}
	for host, want := range map[string]bool{
		"registry.cn-hangzhou.aliyuncs.com":                true,
		"team-registry.cn-beijing.cr.aliyuncs.com":         true,
		"crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com": true,
		"registry.example.com":                             true,
		"REGISTRY.example.com":                             true,
		"other.example.com:5443":                           true,
		"other.example.com":                                false,
		"docker.io":                                        false,
		"registry.example.com.evil.test":                   false,
	} {
		reg, err := acr.Parse(host)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if got := k.Serves(reg); got != want {
			t.Errorf("serves(%s) = %v, want %v", host, got, want)
		}
		// Plan agrees: a host that is not served has no plan.
		if _, err := k.Plan(t.Context(), reg); (err == nil) != want && reg.Edition == acr.EditionUnknown {
			t.Errorf("Plan(%s) err = %v, serves = %v", host, err, want)
		}
	}
}

// The STS endpoint is resolved once per plan, and an override is never swapped for another
// endpoint behind the user's back.
func TestPlanSTSEndpoint(t *testing.T) {
	t.Parallel()
	entry := config.Registry{Domains: []string{"registry.example.com"}, InstanceID: "cri-aaaaaaaaaaaaaaaa", ArnUser: "acs:ram::2:role/r", ExpireDuration: 3600}
	env := map[string]string{"HOME": t.TempDir(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	for _, tt := range []struct {
		name, override, stsRegion string
		regionID                  string
		vpc                       bool
		want                      string // endpoint, or "error: <substring>"
	}{
		{name: "the SDK's endpoint map: ap-south-1 goes to the global endpoint", regionID: "ap-south-1", want: "https://sts.aliyuncs.com"},
		{name: "the SDK's endpoint map wins over vpc: cn-wuhan", regionID: "cn-wuhan", vpc: true, want: "https://sts.aliyuncs.com"},
		{name: "vpc: the SDK's regional rule", regionID: "cn-beijing", vpc: true, want: "https://sts-vpc.cn-beijing.aliyuncs.com"},
		{name: "finance region", regionID: "cn-shanghai-finance-1", want: "https://sts.cn-shanghai-finance-1.aliyuncs.com"},
		{name: "override wins over the SDK's map", override: "sts-proxy.{region}.example.com", regionID: "ap-south-1", vpc: true, want: "https://sts-proxy.ap-south-1.example.com"},
		{name: "ALIBABA_CLOUD_STS_REGION not a region", stsRegion: "cn_beijing", regionID: "cn-beijing", want: "error: not a region id"},
		{name: "default, region from the entry", regionID: "cn-beijing", want: "https://sts.cn-beijing.aliyuncs.com"},
		{name: "default, no region known: the global endpoint", want: "https://sts.aliyuncs.com"},
		{name: "ALIBABA_CLOUD_STS_REGION", stsRegion: "cn-shanghai", regionID: "cn-beijing", want: "https://sts.cn-shanghai.aliyuncs.com"},
		{name: "override with {region}", override: "sts-proxy.{region}.example.com", regionID: "cn-beijing", want: "https://sts-proxy.cn-beijing.example.com"},
		{name: "override with {region}, no region known", override: "sts-proxy.{region}.example.com", want: "error: add regionId to registries[0]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := entry
			e.RegionID = tt.regionID
			vars := maps.Clone(env)
			vars["ALIBABA_CLOUD_STS_REGION"] = tt.stsRegion
			k := &Keychain{DMIDir: t.TempDir(), Config: &config.Config{VPC: tt.vpc, Endpoints: config.Endpoints{STS: tt.override}, Registries: []config.Registry{e},
				Getenv: func(k string) string { return vars[k] }}}
			reg, _ := acr.Parse("registry.example.com")
			p, err := k.Plan(t.Context(), reg)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				var te *TokenError
				if !errors.As(err, &te) || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want a TokenError containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.STSEndpoint.String() != tt.want {
				t.Errorf("STS endpoint %s, want %s", p.STSEndpoint, tt.want)
			}
			a, ok := p.Provider.(*sts.AssumeRole)
			if !ok || a.Endpoint != p.STSEndpoint || len(p.Hops) != 1 || a.Hop != p.Hops[0] {
				t.Errorf("the provider is not the planned hop: %#v", p.Provider)
			}
		})
	}
}
