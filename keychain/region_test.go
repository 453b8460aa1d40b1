package keychain

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// TestRegionFromAnAPIAnswerIsChecked: ListInstance answers with the instance's region, which
// then names the endpoint of the token call. A region that is not a region id is refused before
// any token is asked for.
func TestRegionFromAnAPIAnswerIsChecked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	if err := w.fc.AddInstance(fakecloud.Instance{AccountID: acctA, ID: "cri-dddddddddddddddd", Name: "hostile", Region: "evil.example.test:443/#"}); err != nil {
		t.Fatal(err)
	}
	_, err := w.keychain(t).Login(ctx(t), "hostile-registry.cn-beijing.cr.aliyuncs.com")
	var te *TokenError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "not a region id") {
		t.Fatalf("err = %v, want a TokenError about the region", err)
	}
	if n := w.tokenCalls(); n != 0 {
		t.Errorf("token calls = %d, want 0", n)
	}
}

// TestSTSRegionFromTheEnvironmentIsChecked: the plan refuses an ALIBABA_CLOUD_STS_REGION that is
// not a region id (config.Load refuses it too; a Keychain may be built without it), and never
// falls back to another STS endpoint.
func TestSTSRegionFromTheEnvironmentIsChecked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	w.env["ALIBABA_CLOUD_STS_REGION"] = "evil.example.test:443/#"
	k := w.keychain(t, config.Registry{ArnUser: roleSvc})
	k.Config.Endpoints.STS = "" // the endpoint is built from the region
	_, err := k.Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_STS_REGION") || !strings.Contains(err.Error(), "not a region id") {
		t.Fatalf("err = %v", err)
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("%d API calls, want 0", n)
	}
}

// TestHostThatNamesItsRegionKeepsIt: a catch-all entry's regionId (config.Load refuses one; a
// Keychain can still be given one) never rewrites the region of a host that names its own: a
// cn-hangzhou host gets a cn-hangzhou token, not the cn-beijing one, and doctor says the region
// the token is asked in, by the same rule.
func TestHostThatNamesItsRegionKeepsIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	catchAll := config.Registry{RegionID: "cn-beijing"}
	hz, err := w.keychain(t, catchAll).Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err != nil {
		t.Fatal(err)
	}
	bj, err := w.keychain(t, catchAll).Login(ctx(t), "registry.cn-beijing.aliyuncs.com")
	if err != nil {
		t.Fatal(err)
	}
	if hz.Secret == bj.Secret || w.tokenCalls() != 2 {
		t.Errorf("the cn-hangzhou host got the cn-beijing token (token calls %d)", w.tokenCalls())
	}
	k := w.keychain(t, catchAll)
	reg, _ := acr.Parse("registry.cn-hangzhou.aliyuncs.com")
	p, err := k.Plan(ctx(t), reg)
	if err != nil || p.Region != "cn-hangzhou" {
		t.Fatalf("plan region %v, %v", p, err)
	}

}

// TestEntryContradictingTheHostsRegion: an entry that names the host's instance with another
// regionId is an error naming the entry, not a token asked in the wrong region.
func TestEntryContradictingTheHostsRegion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	w.setChallenge(fakecloud.Challenge("cn-beijing", "china:"+teamID))
	k := w.keychain(t, config.Registry{InstanceID: teamID, RegionID: "cn-shanghai"})
	_, err := k.Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com")
	var te *TokenError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "names region cn-beijing") || !strings.Contains(err.Error(), "registries[0]") || !strings.Contains(err.Error(), "regionId cn-shanghai") {
		t.Fatalf("err = %v", err)
	}
	if w.tokenCalls() != 0 {
		t.Errorf("token calls %d, want 0", w.tokenCalls())
	}
}
