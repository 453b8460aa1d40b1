package credhelper

import (
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
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
		if got := k.serves(reg); got != want {
			t.Errorf("serves(%s) = %v, want %v", host, got, want)
		}
		// Plan agrees: a host that is not served has no plan.
		if _, err := k.Plan(t.Context(), reg); (err == nil) != want && reg.Edition == acr.EditionUnknown {
			t.Errorf("Plan(%s) err = %v, serves = %v", host, err, want)
		}
	}
}
