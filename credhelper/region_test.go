package credhelper

import (
	"errors"
	"strings"
	"testing"

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
	_, err := w.keychain(t).Get(ctx(t), "hostile-registry.cn-beijing.cr.aliyuncs.com")
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
	_, err := k.Get(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_STS_REGION") || !strings.Contains(err.Error(), "not a region id") {
		t.Fatalf("err = %v", err)
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("%d API calls, want 0", n)
	}
}
