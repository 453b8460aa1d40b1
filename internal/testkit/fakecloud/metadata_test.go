package fakecloud_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// proxied is an HTTP client that reaches everything through the fake's metadata proxy; the
// proxy answers for 100.100.100.200 itself, so nothing leaves the machine.
func proxied(t *testing.T, fc *fakecloud.Server) *http.Client {
	t.Helper()
	u, err := url.Parse(fc.MetadataProxyURL())
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(u)}}
}

func do(t *testing.T, cl *http.Client, method, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func ecsProvider(t *testing.T, fc *fakecloud.Server) *providers.ECSRAMRoleCredentialsProvider {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "")
	p, err := providers.NewECSRAMRoleCredentialsProviderBuilder().
		WithHttpOptions(&providers.HttpOptions{Proxy: fc.MetadataProxyURL(), ConnectTimeout: 60000, ReadTimeout: 60000}).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMetadataService(t *testing.T) {
	fc := newWorld(t)
	if err := fc.SetECSRole(ecsRoleARN); err != nil {
		t.Fatal(err)
	}
	cl := proxied(t, fc)
	const base = "http://100.100.100.200/latest"
	st, tok := do(t, cl, "PUT", base+"/api/token", map[string]string{"X-aliyun-ecs-metadata-token-ttl-seconds": "21600"})
	if st != 200 || tok == "" {
		t.Fatalf("token: %d %s", st, tok)
	}
	hdr := map[string]string{"X-aliyun-ecs-metadata-token": tok}
	if st, name := do(t, cl, "GET", base+"/meta-data/ram/security-credentials/", hdr); st != 200 || name != "ecs-node" {
		t.Fatalf("role name: %d %q", st, name)
	}
	st, body := do(t, cl, "GET", base+"/meta-data/ram/security-credentials/ecs-node", hdr)
	for _, k := range []string{`"AccessKeyId":"STS.`, `"AccessKeySecret"`, `"SecurityToken"`, `"Expiration"`, `"LastUpdated"`, `"Code":"Success"`} {
		if st != 200 || !strings.Contains(body, k) {
			t.Fatalf("credentials: %d %s (want %s)", st, body, k)
		}
	}
	for _, tc := range []struct {
		name, method, url string
		hdr               map[string]string
		status            int
	}{
		{"token without ttl", "PUT", base + "/api/token", nil, 400},
		{"bad session token", "GET", base + "/meta-data/ram/security-credentials/", map[string]string{"X-aliyun-ecs-metadata-token": "nope"}, 401},
		{"other role", "GET", base + "/meta-data/ram/security-credentials/other", hdr, 404},
		{"other path", "GET", base + "/meta-data/instance-id", hdr, 404},
		{"other host is refused", "GET", "http://example.invalid/", nil, 403},
		{"other port of the metadata host is refused", "GET", "http://100.100.100.200:8080/", nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, body := do(t, cl, tc.method, tc.url, tc.hdr); st != tc.status {
				t.Fatalf("%d %s", st, body)
			}
		})
	}
	// CONNECT (https through the proxy) is refused.
	if st, body := do(t, cl, "GET", "https://example.invalid/", nil); st != 0 || !strings.Contains(body, "Forbidden") {
		t.Fatalf("CONNECT: %d %s", st, body)
	}
	// IMDSv2 enforced: no session token, no answer.
	fc.RequireIMDSv2(true)
	if st, _ := do(t, cl, "GET", base+"/meta-data/ram/security-credentials/", nil); st != 403 {
		t.Fatalf("IMDSv2 enforced: %d", st)
	}
	fc.RequireIMDSv2(false)
	// No role attached.
	if err := fc.SetECSRole(""); err != nil {
		t.Fatal(err)
	}
	if st, _ := do(t, cl, "GET", base+"/meta-data/ram/security-credentials/", nil); st != 404 {
		t.Fatalf("no role: %d", st)
	}
	c := lastCall(t, fc, fakecloud.MetadataRoleName)
	if c.Host != "100.100.100.200" || c.Service != "ecs-metadata" {
		t.Fatalf("call %+v", c)
	}
}

// credentials-go's own ECS RAM role provider, through the proxy, gets credentials that work
// against the fake API.
func TestMetadataWithCredentialsGo(t *testing.T) {
	fc := newWorld(t)
	if err := fc.SetECSRole(ecsRoleARN); err != nil {
		t.Fatal(err)
	}
	cc, err := ecsProvider(t, fc).GetCredentials()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enterpriseToken(crClient(t, config(fc, cc.AccessKeyId, cc.AccessKeySecret, cc.SecurityToken)), instID); err != nil {
		t.Fatal(err)
	}
	if c := lastCall(t, fc, "GetAuthorizationToken"); c.AccessKeyID != cc.AccessKeyId || c.Principal != "acs:ram::"+acct+":assumed-role/ecs-node/fakecloud-ecs" {
		t.Fatalf("call %+v", c)
	}
	for _, a := range []string{fakecloud.MetadataToken, fakecloud.MetadataRoleName, fakecloud.MetadataCredentials} {
		if fc.Count(a) == 0 {
			t.Errorf("no %s call", a)
		}
	}
	// The same credentials come back while they are fresh.
	cc2, err := ecsProvider(t, fc).GetCredentials()
	if err != nil || cc2.AccessKeyId != cc.AccessKeyId {
		t.Fatalf("second fetch: %v %v", cc2, err)
	}
	// One failed answer is absorbed by credentials-go's retry without the session token.
	fc.Inject(fakecloud.MetadataCredentials, fakecloud.FaultStatus(500))
	if _, err := ecsProvider(t, fc).GetCredentials(); err != nil {
		t.Fatal(err)
	}
	if fc.PendingFaults(fakecloud.MetadataCredentials) != 0 {
		t.Fatal("fault not consumed")
	}
}

// Garbage from the metadata service, and how credentials-go v1.4.14 takes it.
func TestMetadataFaults(t *testing.T) {
	fc := newWorld(t)
	if err := fc.SetECSRole(ecsRoleARN); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		action    string
		fault     fakecloud.Fault
		wantPanic bool
	}{
		{"not json", fakecloud.MetadataCredentials, fakecloud.FaultMalformedJSON(), false},
		{"truncated", fakecloud.MetadataCredentials, fakecloud.FaultTruncatedJSON(), false},
		{"500", fakecloud.MetadataCredentials, fakecloud.FaultStatus(500), false},
		{"no AccessKeyId", fakecloud.MetadataCredentials, fakecloud.FaultMissingFields("AccessKeyId"), false},
		{"role listing fails", fakecloud.MetadataRoleName, fakecloud.FaultStatus(503), false},
		{"reset", fakecloud.MetadataCredentials, fakecloud.FaultReset(), false},
		// credentials-go dereferences Code and Expiration without a check.
		{"no Code: credentials-go panics", fakecloud.MetadataCredentials, fakecloud.FaultMissingFields("Code"), true},
		{"no Expiration: credentials-go panics", fakecloud.MetadataCredentials, fakecloud.FaultMissingFields("Expiration"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Persistent: on a failed answer credentials-go asks again without the session token
			// (its IMDSv1 fallback), so a single queued fault would be absorbed.
			fc.InjectPersistent(tc.action, tc.fault)
			defer fc.ClearFaults(tc.action)
			p := ecsProvider(t, fc)
			var err error
			panicked := func() (panicked bool) {
				defer func() {
					if r := recover(); r != nil {
						panicked = true
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				_, err = p.GetCredentials()
				return false
			}()
			if err == nil || panicked != tc.wantPanic {
				t.Fatalf("err %v, panicked %v", err, panicked)
			}
			t.Logf("credentials-go: %v", err)
		})
	}
}

// With HTTP_PROXY pointing at the metadata proxy for a whole process, darabonba sends even its
// loopback API calls through the proxy; the proxy serves the fake's own API.
func TestProxyServesOwnAPI(t *testing.T) {
	fc := newWorld(t)
	c := config(fc, userAK, userSK, "")
	c.HttpProxy = tea.String(fc.MetadataProxyURL())
	if _, err := enterpriseToken(crClient(t, c), instID); err != nil {
		t.Fatal(err)
	}
	if c := lastCall(t, fc, "GetAuthorizationToken"); c.Host != fc.Endpoint() || c.Status != 200 {
		t.Fatalf("call %+v", c)
	}
}
