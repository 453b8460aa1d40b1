package keychain

import (
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// One identity, named alike: a secret plan's cache key changes with everything that decides the
// login (the secret, its stage, the endpoint, who reads it) and with nothing else (the name the
// client gave Docker Hub).
func TestSecretPlanKeyAndIdentity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	ref, _ := secrets.ParseRef("hub", "cn-hangzhou")
	entry := func(mod func(*config.Registry)) config.Registry {
		r := config.Registry{Domains: []string{"docker.io"}, RegionID: "cn-hangzhou", Secret: &config.Secret{Ref: ref, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	plan := func(k *Keychain, host string) *Plan {
		t.Helper()
		reg, err := ParseServer(host)
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Plan(ctx(t), reg)
		if err != nil || p.Secret == nil || p.Kind != TargetSecret {
			t.Fatalf("%s: %+v %v", host, p, err)
		}
		return p
	}
	base := plan(w.keychain(t, entry(nil)), "docker.io")
	for _, h := range []string{"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io:443"} {
		if p := plan(w.keychain(t, entry(nil)), h); p.Key != base.Key || p.Registry.Host != "docker.io" {
			t.Errorf("%s: key or host differs from docker.io's (%s)", h, p.Registry.Host)
		}
	}
	other, _ := secrets.ParseRef("hub2", "cn-hangzhou")
	variants := map[string]*Keychain{
		"secret": w.keychain(t, entry(func(r *config.Registry) {
			r.Secret = &config.Secret{Ref: other, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}
		})),
		"stage": w.keychain(t, entry(func(r *config.Registry) {
			r.Secret = &config.Secret{Ref: ref, Stage: "ACSPrevious", TTL: secrets.DefaultTTL}
		})),
		"role hop": w.keychain(t, entry(func(r *config.Registry) { r.ArnUser = roleUser })),
	}
	vpc := w.keychain(t, entry(nil))
	vpc.Config.VPC = true
	variants["VPC endpoint"] = vpc
	scoped := w.keychain(t, entry(nil))
	scoped.CacheScope = "system:serviceaccount:ns:sa"
	variants["kubelet service account"] = scoped
	w.useAK(t, deniedAK, deniedSK)
	variants["base credentials"] = w.keychain(t, entry(nil))
	for name, k := range variants {
		if p := plan(k, "docker.io"); p.Key == base.Key {
			t.Errorf("%s: same cache key", name)
		}
	}
	if p := plan(vpc, "docker.io"); p.Secret.Endpoint.String() != "https://kms-vpc.cn-hangzhou.aliyuncs.com" {
		t.Errorf("VPC endpoint %s", p.Secret.Endpoint)
	}
	hop := plan(variants["role hop"], "docker.io")
	if got, want := SecretIdentity(hop), "acs:kms:cn-hangzhou:"+acctB+":secret/hub (versionStage ACSCurrent) read by environment AccessKey → "+roleUser; got != want {
		t.Errorf("identity %q, want %q (the account of the last hop completes a bare name's ARN)", got, want)
	}
}

// An entry with a secret serves every host it lists, ACR's too: a Personal Edition instance
// (crpi-), which has no temporary tokens, can keep its fixed password in KMS. Hosts it does not
// list keep their ACR plans.
func TestSecretEntryServesTheHostsItLists(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	ref, _ := secrets.ParseRef("crpi-login", "cn-hangzhou")
	const crpi = "crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com"
	k := w.keychain(t, config.Registry{Domains: []string{crpi}, RegionID: "cn-hangzhou", Secret: &config.Secret{Ref: ref, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}})
	for host, want := range map[string]TargetKind{crpi: TargetSecret, "registry.cn-hangzhou.aliyuncs.com": TargetPersonal, "team-registry.cn-beijing.cr.aliyuncs.com": TargetEnterprise} {
		reg, _ := ParseServer(host)
		p, err := k.Plan(ctx(t), reg)
		if err != nil || p.Kind != want || (p.Secret != nil) != (want == TargetSecret) {
			t.Errorf("%s: %+v %v, want kind %d", host, p, err, want)
		}
	}
	if _, err := k.Plan(ctx(t), mustParse(t, "ghcr.io")); err == nil {
		t.Error("ghcr.io is listed by no entry, but was planned")
	}
}

func mustParse(t *testing.T, host string) acr.Registry {
	t.Helper()
	reg, err := ParseServer(host)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
