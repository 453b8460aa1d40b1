package fakecloud_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func TestFaults(t *testing.T) {
	fc := newWorld(t)
	type outcome int
	const (
		sdkErr   outcome = iota // *tea.SDKError with code/status
		plainErr                // an error that is not a *tea.SDKError (transport, parse)
		ok                      // a decoded answer, checked by check
	)
	tests := []struct {
		name   string
		fault  fakecloud.Fault
		want   outcome
		code   string
		status int
		check  func(*testing.T, *cr.GetAuthorizationTokenResponseBody)
		slow   time.Duration
	}{
		{name: "500", fault: fakecloud.FaultStatus(500), want: sdkErr, code: "InternalError", status: 500},
		{name: "503", fault: fakecloud.FaultStatus(503), want: sdkErr, code: "ServiceUnavailable", status: 503},
		{name: "502 from the load balancer is HTML", fault: fakecloud.FaultStatus(502), want: plainErr},
		{name: "throttling user", fault: fakecloud.FaultThrottling("Throttling.User", 0), want: sdkErr, code: "Throttling.User", status: 400},
		{name: "throttling 429", fault: fakecloud.FaultThrottling("Throttling", 429), want: sdkErr, code: "Throttling", status: 429},
		{name: "custom api error", fault: fakecloud.FaultAPIError(403, "Forbidden.RAM", "User not authorized to operate on the specified resource."), want: sdkErr, code: "Forbidden.RAM", status: 403},
		{name: "connection reset", fault: fakecloud.FaultReset(), want: plainErr},
		{name: "hang until the client gives up", fault: fakecloud.FaultHang(), want: plainErr},
		{name: "malformed json", fault: fakecloud.FaultMalformedJSON(), want: plainErr},
		{name: "truncated json", fault: fakecloud.FaultTruncatedJSON(), want: plainErr},
		{name: "missing token", fault: fakecloud.FaultMissingFields("AuthorizationToken", "ExpireTime"), want: ok,
			check: func(t *testing.T, b *cr.GetAuthorizationTokenResponseBody) {
				if b.AuthorizationToken != nil || b.ExpireTime != nil || !tea.BoolValue(b.IsSuccess) {
					t.Fatalf("body %s", b)
				}
			}},
		{name: "IsSuccess false with 200", fault: fakecloud.FaultNotSuccess(""), want: ok,
			check: func(t *testing.T, b *cr.GetAuthorizationTokenResponseBody) {
				if tea.BoolValue(b.IsSuccess) || tea.StringValue(b.Code) != "INSTANCE_NOT_EXIST" || b.AuthorizationToken != nil {
					t.Fatalf("body %s", b)
				}
			}},
		{name: "delay", fault: fakecloud.FaultDelay(300 * time.Millisecond), want: ok, slow: 300 * time.Millisecond,
			check: func(t *testing.T, b *cr.GetAuthorizationTokenResponseBody) {
				if tea.StringValue(b.AuthorizationToken) == "" {
					t.Fatalf("body %s", b)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config(fc, userAK, userSK, "")
			if tc.fault.Kind == fakecloud.FaultKindHang {
				c.ReadTimeout = tea.Int(700) // the client giving up is the outcome under test
			}
			cl := crClient(t, c)
			fc.Inject(fakecloud.ActionEnterpriseToken, tc.fault)
			start := time.Now()
			res, err := enterpriseToken(cl, instID)
			elapsed := time.Since(start)
			switch tc.want {
			case sdkErr:
				sdkError(t, err, tc.code, tc.status)
			case plainErr:
				var se *tea.SDKError
				if err == nil || errors.As(err, &se) {
					t.Fatalf("want a non-SDK error, got %T %v", err, err)
				}
				t.Logf("error: %v", err)
			case ok:
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, res.Body)
			}
			// The upper bound only says "did not hang" (a loaded machine is slow, never this slow).
			if elapsed < tc.slow || elapsed > 20*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if fc.PendingFaults(fakecloud.ActionEnterpriseToken) != 0 {
				t.Fatal("fault not consumed")
			}
			if got := lastCall(t, fc, fakecloud.ActionEnterpriseToken).Fault; got != tc.fault.Kind {
				t.Errorf("recorded fault %q", got)
			}
			// One fault, one call: the next call is fine.
			if _, err := enterpriseToken(crClient(t, config(fc, userAK, userSK, "")), instID); err != nil {
				t.Fatalf("call after the fault: %v", err)
			}
		})
	}
}

func TestFaultScoping(t *testing.T) {
	fc := newWorld(t)
	cl := crClient(t, config(fc, userAK, userSK, ""))
	// A version-qualified queue only hits that version; the plain name hits both.
	fc.Inject(fakecloud.ActionPersonalToken, fakecloud.FaultStatus(503))
	if _, err := enterpriseToken(cl, instID); err != nil {
		t.Fatal(err)
	}
	_, err := personalToken(cl)
	sdkError(t, err, "ServiceUnavailable", 503)

	// Faults apply after authentication: a bad signature does not consume one.
	fc.Inject("ListInstance", fakecloud.FaultStatus(500))
	_, err = crClient(t, config(fc, userAK, "bad", "")).ListInstance(&cr.ListInstanceRequest{})
	sdkError(t, err, "SignatureDoesNotMatch", 400)
	if fc.PendingFaults("ListInstance") != 1 {
		t.Fatal("fault consumed by an unauthenticated call")
	}
	fc.ClearFaults("")

	// Persistent faults stay until cleared.
	fc.InjectPersistent("AssumeRole", fakecloud.FaultThrottling("Throttling.User", 0))
	for i := 0; i < 3; i++ {
		_, err := stsClient(t, config(fc, userAK, userSK, "")).AssumeRole(&sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")})
		sdkError(t, err, "Throttling.User", 400)
	}
	fc.ClearFaults("AssumeRole")
	if _, err := stsClient(t, config(fc, userAK, userSK, "")).AssumeRole(&sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}); err != nil {
		t.Fatal(err)
	}
	if n := fc.Count("AssumeRole"); n != 4 {
		t.Fatalf("Count(AssumeRole) = %d", n)
	}
}

func TestLatency(t *testing.T) {
	fc := newWorld(t)
	fc.SetLatency(200 * time.Millisecond)
	start := time.Now()
	if _, err := enterpriseToken(crClient(t, config(fc, userAK, userSK, "")), instID); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("answered in %v", d)
	}
}

// A hanging request is released by Close, and Close does not wait for the client.
func TestHangReleasedByClose(t *testing.T) {
	fc := newWorld(t)
	fc.Inject(fakecloud.ActionEnterpriseToken, fakecloud.FaultHang())
	c := config(fc, userAK, userSK, "")
	c.ReadTimeout = tea.Int(30000)
	done := make(chan error, 1)
	go func() {
		_, err := enterpriseToken(crClient(t, c), instID)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute) // bounds a broken fake, not the machine's speed
	for fc.Count(fakecloud.ActionEnterpriseToken) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	fc.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("hanging call succeeded")
		}
	case <-time.After(time.Minute):
		t.Fatal("client still blocked after Close")
	}
	// Well under the client's 30 s read timeout: Close released it, the timeout did not.
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Close took %v", d)
	}
}

func TestConcurrentUse(t *testing.T) {
	fc := newWorld(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%4 == 0 {
				fc.Inject("ListInstance", fakecloud.FaultDelay(time.Millisecond))
			}
			// dara v1.5.3 shares one http.Client per (endpoint, timeouts) and writes its Timeout
			// on every call without a lock: concurrent SDK calls race inside the SDK. A custom
			// HttpClient sidesteps that pool.
			c := config(fc, userAK, userSK, "")
			c.HttpClient = hookClient{}
			cl, err := cr.NewClient(c)
			if err != nil {
				errs <- err
				return
			}
			if _, err := enterpriseToken(cl, instID); err != nil {
				errs <- err
			}
			if _, err := cl.ListInstance(&cr.ListInstanceRequest{}); err != nil {
				errs <- err
			}
			_ = fc.Calls()
			_ = fc.IssuedTokens()
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(fc.IssuedTokens()); n != 16 {
		t.Fatalf("%d tokens", n)
	}
}

func TestFaultJSON(t *testing.T) {
	var fs []fakecloud.Fault
	in := `[{"kind":"status","status":503},{"kind":"delay","delay":"1.5s"},{"kind":"delay","delay":250},{"kind":"missing","fields":["Credentials.Expiration"]}]`
	if err := json.Unmarshal([]byte(in), &fs); err != nil {
		t.Fatal(err)
	}
	if fs[0].Status != 503 || fs[1].Delay != 1500*time.Millisecond || fs[2].Delay != 250*time.Millisecond || fs[3].Fields[0] != "Credentials.Expiration" {
		t.Fatalf("%+v", fs)
	}
	if err := json.Unmarshal([]byte(`{"kind":"bogus"}`), &fakecloud.Fault{}); err == nil {
		t.Fatal("unknown kind accepted")
	}
	b, _ := json.Marshal(fs[1])
	if !strings.Contains(string(b), `"delay":"1.5s"`) {
		t.Fatalf("%s", b)
	}
}

// Unsigned calls other than AssumeRoleWithOIDC and unknown actions are refused.
func TestUnsignedAndUnknown(t *testing.T) {
	fc := newWorld(t)
	for _, tc := range []struct {
		url, code string
		status    int
	}{
		{fc.URL() + "/?Action=AssumeRole&Version=2015-04-01&Format=json", "MissingAccessKeyId", 400},
		{fc.URL() + "/?Action=DeleteEverything&Version=2015-04-01", "InvalidAction.NotFound", 404},
		{fc.URL() + "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&OIDCProviderArn=x&OIDCToken=y&RoleArn=" + rrsaARN, "MissingTimestamp", 400},
	} {
		resp, err := http.Post(tc.url, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["Code"] != tc.code || body["RequestId"] == nil || body["HostId"] != fc.Endpoint() || body["Recommend"] == nil {
			t.Errorf("%s: %d %v", tc.url, resp.StatusCode, body)
		}
	}
}
