package keychain

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// Faults from the cloud: each row injects faults into the fake and states the outcome, the
// message and how many token calls the helper made. Times are logged for the README's
// Reliability section (run with -v), not asserted: the machine is shared.
func TestCloudFaults(t *testing.T) {
	t.Parallel()
	const personal = fakecloud.ActionPersonalToken
	tests := []struct {
		name       string
		action     string
		faults     []fakecloud.Fault
		persistent *fakecloud.Fault
		timeout    time.Duration
		wantOK     bool
		wantCalls  int    // token-action calls seen by the fake
		wantMsg    string // substring of the error
	}{
		{name: "500 then success", action: personal, faults: []fakecloud.Fault{fakecloud.FaultStatus(500)}, wantOK: true, wantCalls: 2},
		{name: "502 HTML then success", action: personal, faults: []fakecloud.Fault{fakecloud.FaultStatus(502)}, wantOK: true, wantCalls: 2},
		{name: "503 twice then success", action: personal, faults: []fakecloud.Fault{fakecloud.FaultStatus(503), fakecloud.FaultStatus(503)}, wantOK: true, wantCalls: 3},
		{name: "connection reset then success", action: personal, faults: []fakecloud.Fault{fakecloud.FaultReset()}, wantOK: true, wantCalls: 2},
		{name: "Throttling.User then success", action: personal, faults: []fakecloud.Fault{fakecloud.FaultThrottling("Throttling.User", 400)}, wantOK: true, wantCalls: 2},
		{name: "Throttling persists", action: personal, persistent: ptr(fakecloud.FaultThrottling("Throttling", 400)), wantCalls: 4, wantMsg: "throttled"},
		{name: "500 persists", action: personal, persistent: ptr(fakecloud.FaultStatus(500)), wantCalls: 4, wantMsg: "server error"},
		{name: "hang: the deadline holds", action: personal, persistent: ptr(fakecloud.FaultHang()), timeout: 2 * time.Second, wantCalls: 1, wantMsg: "deadline"},
		{name: "malformed JSON", action: personal, faults: []fakecloud.Fault{fakecloud.FaultMalformedJSON()}, wantCalls: 1, wantMsg: "malformed"},
		{name: "truncated JSON", action: personal, faults: []fakecloud.Fault{fakecloud.FaultTruncatedJSON()}, wantCalls: 1, wantMsg: "malformed"},
		{name: "missing token field", action: personal, faults: []fakecloud.Fault{fakecloud.FaultMissingFields("data.authorizationToken")}, wantCalls: 1, wantMsg: "lacks"},
		{name: "missing expiry", action: personal, faults: []fakecloud.Fault{fakecloud.FaultMissingFields("data.expireDate")}, wantCalls: 1, wantMsg: "expireDate"},
		{name: "enterprise IsSuccess=false with 200", action: fakecloud.ActionEnterpriseToken, faults: []fakecloud.Fault{fakecloud.FaultNotSuccess("INSTANCE_NOT_EXIST")}, wantCalls: 1, wantMsg: "INSTANCE_NOT_EXIST"},
		{name: "enterprise missing ExpireTime", action: fakecloud.ActionEnterpriseToken, faults: []fakecloud.Fault{fakecloud.FaultMissingFields("ExpireTime")}, wantCalls: 1, wantMsg: "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.useAK(t, devAK, devSK)
			k := w.keychain(t, config.Registry{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing"})
			if tt.timeout != 0 {
				k.Config.Timeout = tt.timeout
			}
			host := "registry.cn-hangzhou.aliyuncs.com"
			if tt.action == fakecloud.ActionEnterpriseToken {
				host = customDom
			}
			w.fc.Inject(tt.action, tt.faults...)
			if tt.persistent != nil {
				w.fc.InjectPersistent(tt.action, *tt.persistent)
			}
			c, cancel := contextWithTimeout(k.Config.Timeout)
			defer cancel()
			t0 := time.Now()
			l, err := k.Login(c, host)
			took := time.Since(t0)
			w.fc.ClearFaults("")
			if tt.wantOK != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err == nil && l.Secret == "" {
				t.Fatal("empty secret")
			}
			if err != nil {
				var te *TokenError
				if !errors.As(err, &te) || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.wantMsg)) {
					t.Errorf("err = %v, want a TokenError saying %q", err, tt.wantMsg)
				}
			}
			if n := w.fc.Count(tt.action); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
			// "The deadline holds": far below a hang, and not a timing margin on a loaded machine.
			if tt.timeout != 0 && took > tt.timeout+15*time.Second {
				t.Errorf("took %v with a %v deadline", took, tt.timeout)
			}
			t.Logf("outcome ok=%v in %v: %v", err == nil, took.Round(time.Millisecond), err)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// STS credentials that expire between the hops: hop 2 fails with InvalidSecurityToken.Expired
// once; the helper asks hop 1 again and goes on.
func TestSTSExpiresBetweenHops(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	w.fc.Inject("AssumeRole", fakecloud.Fault{}, fakecloud.FaultAPIError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."))
	k := w.keychain(t, config.Registry{Domains: []string{"cross.example.com"}, InstanceID: crossID, RegionID: "cn-shanghai", ArnService: roleSvc, ArnUser: roleUser})
	if _, err := k.Login(ctx(t), "cross.example.com"); err != nil {
		t.Fatal(err)
	}
	if n := w.fc.Count("AssumeRole"); n != 4 {
		t.Errorf("AssumeRole calls %d, want 4 (hop 1, failed hop 2, hop 1 again, hop 2)", n)
	}
}

// A refresh that fails while the cached token is still valid serves the cached token.
func TestStaleTokenServedWhenRefreshFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	first, err := w.keychain(t).Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err != nil {
		t.Fatal(err)
	}
	w.fc.InjectPersistent(fakecloud.ActionPersonalToken, fakecloud.FaultStatus(503))
	k := w.keychain(t)
	k.Cache.Now = func() time.Time { return time.Now().Add(50 * time.Minute) } // due for refresh, still valid
	l, err := k.Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err != nil || l.Secret != first.Secret || l.Source != "stale" {
		t.Fatalf("got %+v %v", l, err)
	}
}
