package keychain

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// countingChallenge counts the registry's /v2/ reads.
func countingChallenge(h http.Handler, n *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// An entry that names only an instanceId applies to that instance's default domains, with its
// hops: the instance is established from the challenge (any realm family), else from the entry's
// own instance's endpoint list; never skipped silently.
func TestInstanceEntryForDefaultDomain(t *testing.T) {
	t.Parallel()
	const host = "cross-registry.cn-shanghai.cr.aliyuncs.com"
	entry := config.Registry{InstanceID: crossID, ArnService: roleSvc, ArnUser: roleUser}
	hop2 := ":assumed-role/role-acr/"

	t.Run("from a variant challenge", func(t *testing.T) {
		for name, header := range map[string]string{
			"ee realm in another region, extra service parts": `Bearer realm="https://dockerauth-ee.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:` + crossID + `:2a"`,
			"region-less realm": `Bearer realm="https://dockerauth.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:` + crossID + `"`,
			"ee-vpc realm":      `Bearer realm="https://dockerauth-ee-vpc.cn-shanghai.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:` + crossID + `"`,
		} {
			t.Run(name, func(t *testing.T) {
				w := newWorld(t)
				w.useAK(t, devAK, devSK)
				var reads atomic.Int32
				w.setChallenge(countingChallenge(rawChallenge(header), &reads))
				l, err := w.keychain(t, entry).Login(ctx(t), host)
				if err != nil {
					t.Fatal(err)
				}
				tok := w.lastToken(t)
				if l.Secret != tok.Token || tok.InstanceID != crossID || !strings.Contains(tok.Principal, hop2) || !strings.HasPrefix(tok.AccessKeyID, "STS.") {
					t.Fatalf("login %+v, token %+v: want instance %s signed by hop 2's STS key", l, tok, crossID)
				}
				if w.fc.Count("ListInstanceEndpoint") != 0 || w.fc.Count("ListInstance") != 0 {
					t.Errorf("ListInstanceEndpoint %d, ListInstance %d", w.fc.Count("ListInstanceEndpoint"), w.fc.Count("ListInstance"))
				}
				// The next gets, cached or cold, read no /v2/ again.
				k2 := w.keychain(t, entry)
				k2.Cache.Now = func() time.Time { return time.Now().Add(50 * time.Minute) }
				for _, k := range []*Keychain{w.keychain(t, entry), k2} {
					if _, err := k.Login(ctx(t), host); err != nil {
						t.Fatal(err)
					}
				}
				if n := reads.Load(); n != 1 {
					t.Errorf("/v2/ read %d times, want 1", n)
				}
				if w.tokenCalls() != 2 || w.lastToken(t).InstanceID != crossID || !strings.Contains(w.lastToken(t).Principal, hop2) {
					t.Errorf("token calls %d, last %+v", w.tokenCalls(), w.lastToken(t))
				}
			})
		}
	})

	t.Run("challenge unreadable: the entry's instance lists the host", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		var reads atomic.Int32
		w.setChallenge(countingChallenge(http.NotFoundHandler(), &reads))
		k := w.keychain(t, entry, config.Registry{}) // a catch-all too: it must not be taken
		for _, h := range []string{host, "cross-registry-vpc.cn-shanghai.cr.aliyuncs.com"} {
			if _, err := k.Login(ctx(t), h); err != nil {
				t.Fatalf("%s: %v", h, err)
			}
		}
		tok := w.lastToken(t)
		if tok.InstanceID != crossID || !strings.Contains(tok.Principal, hop2) {
			t.Fatalf("token %+v", tok)
		}
		var led []fakecloud.Call
		for _, c := range w.fc.Calls() {
			if c.Action == "ListInstanceEndpoint" {
				led = append(led, c)
			}
		}
		// One per host (the -vpc domain is another host); asked with hop 2's key.
		if len(led) != 2 || !strings.Contains(led[0].Principal, hop2) || led[0].Params["InstanceId"] != crossID {
			t.Fatalf("ListInstanceEndpoint calls %+v", led)
		}
		// Remembered: another Keychain asks neither /v2/ nor ListInstanceEndpoint again.
		before := reads.Load()
		if _, err := w.keychain(t, entry, config.Registry{}).Login(ctx(t), host); err != nil {
			t.Fatal(err)
		}
		if reads.Load() != before || w.fc.Count("ListInstanceEndpoint") != 2 {
			t.Errorf("/v2/ %d→%d, ListInstanceEndpoint %d", before, reads.Load(), w.fc.Count("ListInstanceEndpoint"))
		}
	})

	t.Run("challenge unreadable: another instance, the next entry applies", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		// cross's own endpoint list, asked in cn-beijing where a copy of it lives, does not name
		// team-registry: the catch-all (no hops) applies and ListInstance finds team by name.
		if err := w.fc.AddInstance(fakecloud.Instance{AccountID: acctB, ID: "cri-dddddddddddddddd", Name: "cross-bj", Region: "cn-beijing"}); err != nil {
			t.Fatal(err)
		}
		e := entry
		e.InstanceID = "cri-dddddddddddddddd"
		if _, err := w.keychain(t, e, config.Registry{}).Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com"); err != nil {
			t.Fatal(err)
		}
		tok := w.lastToken(t)
		if tok.InstanceID != teamID || tok.AccessKeyID != devAK || w.fc.Count("ListInstanceEndpoint") != 1 {
			t.Fatalf("token %+v, ListInstanceEndpoint %d", tok, w.fc.Count("ListInstanceEndpoint"))
		}
	})

	t.Run("cannot be established: fail naming the entry and the fix", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, deniedAK, deniedSK) // may not AssumeRole: the entry's hops fail
		_, err := w.keychain(t, entry, config.Registry{}).Login(ctx(t), host)
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("err = %v, want a TokenError", err)
		}
		for _, want := range []string{"cannot tell whether " + host + " is the instance of registries[0] (" + crossID + ")", "challenge did not say", "add `domains: [" + host + "]`", "cr:ListInstanceEndpoint"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if w.tokenCalls() != 0 {
			t.Errorf("a token was fetched with another chain (%d calls)", w.tokenCalls())
		}
	})

	t.Run("an entry for another region is no candidate", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		e := entry
		e.RegionID = "cn-shanghai"
		if _, err := w.keychain(t, e).Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com"); err != nil {
			t.Fatal(err)
		}
		if w.fc.Count("ListInstanceEndpoint") != 0 || w.lastToken(t).InstanceID != teamID {
			t.Errorf("ListInstanceEndpoint %d, token %+v", w.fc.Count("ListInstanceEndpoint"), w.lastToken(t))
		}
	})
}

// Personal GET /tokens stays on the public cr endpoint with the VPC switch (nothing shows it on
// cr-vpc); Enterprise calls move to cr-vpc; an endpoints.cr override applies to both.
func TestCRAPIEndpoint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		vpc      bool
		override string
		kind     TargetKind
		want     string
	}{
		{false, "", TargetPersonal, "https://cr.cn-hangzhou.aliyuncs.com"},
		{true, "", TargetPersonal, "https://cr.cn-hangzhou.aliyuncs.com"},
		{false, "", TargetEnterprise, "https://cr.cn-hangzhou.aliyuncs.com"},
		{true, "", TargetEnterprise, "https://cr-vpc.cn-hangzhou.aliyuncs.com"},
		{true, "cr-vpc.{region}.aliyuncs.com", TargetPersonal, "https://cr-vpc.cn-hangzhou.aliyuncs.com"},
		{true, "http://127.0.0.1:9", TargetEnterprise, "http://127.0.0.1:9"},
	} {
		k := &Keychain{Config: &config.Config{Endpoints: config.Endpoints{CR: tt.override}}}
		a, err := k.crAPI(tt.kind, "cn-hangzhou", sts.Credentials{}, tt.vpc)
		if err != nil || a.Endpoint.String() != tt.want || a.Region != "cn-hangzhou" {
			t.Errorf("vpc %v override %q kind %d: %v %v, want %s", tt.vpc, tt.override, tt.kind, a, err, tt.want)
		}
	}
}
