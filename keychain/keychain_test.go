package keychain

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func TestPersonalTokenCachedAndSharedAcrossHostsOfARegion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	k := w.keychain(t)
	l, err := k.Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	if err != nil {
		t.Fatal(err)
	}
	tok := w.lastToken(t)
	if l.Username != "cr_temp_user" || l.Secret != tok.Token || tok.Edition != "personal" || tok.AccessKeyID != devAK || l.Source != "fetched" {
		t.Fatalf("login %+v, issued %+v", l, tok)
	}
	for _, h := range []string{"registry.cn-hangzhou.aliyuncs.com", "https://REGISTRY-VPC.cn-hangzhou.aliyuncs.com/v2/", "registry-internal.cn-hangzhou.aliyuncs.com:443"} {
		l2, err := w.keychain(t).Login(ctx(t), h)
		if err != nil || l2.Secret != tok.Token || l2.Source != "cache" {
			t.Errorf("%s: %+v %v", h, l2, err)
		}
	}
	if n := w.tokenCalls(); n != 1 {
		t.Errorf("token calls = %d, want 1", n)
	}
	// Another region is another token.
	if _, err := w.keychain(t).Login(ctx(t), "registry.cn-beijing.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	if n := w.tokenCalls(); n != 2 {
		t.Errorf("token calls = %d, want 2", n)
	}
	// Switching identity never returns another identity's token.
	w.useAK(t, noPwAK, noPwSK)
	_, err = w.keychain(t).Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	var te *TokenError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "USER_NOT_EXIST") || !strings.Contains(err.Error(), "registry password") {
		t.Fatalf("other identity: err = %v", err)
	}
}

func TestEnterpriseDefaultDomain(t *testing.T) {
	t.Parallel()
	t.Run("instance from the challenge", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		w.setChallenge(fakecloud.Challenge("cn-beijing", "china:"+teamID))
		l, err := w.keychain(t).Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com")
		if err != nil {
			t.Fatal(err)
		}
		tok := w.lastToken(t)
		if l.Secret != tok.Token || tok.InstanceID != teamID || w.fc.Count("ListInstance") != 0 {
			t.Fatalf("login %+v token %+v ListInstance %d", l, tok, w.fc.Count("ListInstance"))
		}
		// The VPC domain of the same instance shares the token.
		if l2, err := w.keychain(t).Login(ctx(t), "team-registry-vpc.cn-beijing.cr.aliyuncs.com"); err != nil || l2.Secret != tok.Token {
			t.Fatalf("vpc domain: %+v %v", l2, err)
		}
		if w.tokenCalls() != 1 {
			t.Errorf("token calls %d", w.tokenCalls())
		}
	})
	t.Run("instance from ListInstance by exact name", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		// A fuzzy name match that must not be taken.
		if err := w.fc.AddInstance(fakecloud.Instance{AccountID: acctA, ID: "cri-cccccccccccccccc", Name: "team-staging", Region: "cn-beijing"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.keychain(t).Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com"); err != nil {
			t.Fatal(err)
		}
		if tok := w.lastToken(t); tok.InstanceID != teamID {
			t.Fatalf("token for %s", tok.InstanceID)
		}
		if w.fc.Count("ListInstance") != 1 {
			t.Errorf("ListInstance calls %d", w.fc.Count("ListInstance"))
		}
		// The mapping is remembered: the next cold fetch skips ListInstance.
		w2 := w.keychain(t)
		w2.Cache.Now = func() time.Time { return time.Now().Add(50 * time.Minute) } // the cached token is due for refresh
		if _, err := w2.Login(ctx(t), "team-registry.cn-beijing.cr.aliyuncs.com"); err != nil {
			t.Fatal(err)
		}
		if w.fc.Count("ListInstance") != 1 || w.tokenCalls() != 2 {
			t.Errorf("ListInstance %d, token calls %d", w.fc.Count("ListInstance"), w.tokenCalls())
		}
	})
	t.Run("unknown instance", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		_, err := w.keychain(t).Login(ctx(t), "nosuch-registry.cn-beijing.cr.aliyuncs.com")
		var te *TokenError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), `"nosuch"`) || w.tokenCalls() != 0 {
			t.Fatalf("err = %v, token calls %d", err, w.tokenCalls())
		}
	})
}

func TestCustomDomain(t *testing.T) {
	t.Parallel()
	t.Run("configured instance and region", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		k := w.keychain(t, config.Registry{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing"})
		for _, h := range []string{customDom, "REGISTRY.example.com:443", "https://registry.example.com/v2/"} {
			if _, err := k.Login(ctx(t), h); err != nil {
				t.Fatalf("%s: %v", h, err)
			}
		}
		if w.tokenCalls() != 1 || w.fc.Count("ListInstanceEndpoint") != 0 || w.lastToken(t).InstanceID != teamID {
			t.Errorf("token calls %d, ListInstanceEndpoint %d", w.tokenCalls(), w.fc.Count("ListInstanceEndpoint"))
		}
		// Another port is another host, not listed.
		var nf *NotFoundError
		if _, err := k.Login(ctx(t), "registry.example.com:5443"); !errors.As(err, &nf) {
			t.Errorf(":5443: err = %v", err)
		}
	})
	t.Run("discovered and confirmed by the instance's endpoint list", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		w.setChallenge(fakecloud.Challenge("cn-beijing", "china:"+teamID))
		k := w.keychain(t, config.Registry{Domains: []string{customDom}})
		if _, err := k.Login(ctx(t), customDom); err != nil {
			t.Fatal(err)
		}
		if w.fc.Count("ListInstanceEndpoint") != 1 || w.lastToken(t).InstanceID != teamID {
			t.Errorf("ListInstanceEndpoint %d", w.fc.Count("ListInstanceEndpoint"))
		}
	})
	t.Run("a domain the instance does not list gets no token", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		w.setChallenge(fakecloud.Challenge("cn-beijing", "china:"+teamID)) // a hostile server claiming the instance
		k := w.keychain(t, config.Registry{Domains: []string{"evil.example.com"}})
		_, err := k.Login(ctx(t), "evil.example.com")
		if err == nil || !strings.Contains(err.Error(), "does not list evil.example.com") {
			t.Fatalf("err = %v", err)
		}
		if w.tokenCalls() != 0 {
			t.Errorf("a token was issued for an unconfirmed domain")
		}
	})
	t.Run("unlisted host is not ACR", func(t *testing.T) {
		w := newWorld(t)
		w.useAK(t, devAK, devSK)
		k := w.keychain(t, config.Registry{ArnUser: roleUser}) // a catch-all entry applies to ACR hosts only
		var nf *NotFoundError
		for _, h := range []string{"docker.io", "registry.cn-hangzhou.aliyuncs.com.evil.example", "evil.example/registry.cn-hangzhou.aliyuncs.com", "user@registry.cn-hangzhou.aliyuncs.com"} {
			if _, err := k.Login(ctx(t), h); !errors.As(err, &nf) || nf.Hint != "" {
				t.Errorf("%s: err = %v", h, err)
			}
		}
		if n := len(w.fc.Calls()); n != 0 {
			t.Errorf("%d API calls for non-ACR hosts", n)
		}
	})
}

func TestCrossAccountChain(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	k := w.keychain(t, config.Registry{Domains: []string{"cross.example.com"}, InstanceID: crossID, RegionID: "cn-shanghai", ArnService: roleSvc, ArnUser: roleUser})
	l, err := k.Login(ctx(t), "cross.example.com")
	if err != nil {
		t.Fatal(err)
	}
	calls := w.fc.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls: %+v", calls)
	}
	hop1, hop2, tok := calls[0], calls[1], calls[2]
	if hop1.Action != "AssumeRole" || hop1.AccessKeyID != devAK || hop1.Params["RoleArn"] != roleSvc {
		t.Errorf("hop 1: %+v", hop1)
	}
	if hop2.Action != "AssumeRole" || !strings.HasPrefix(hop2.Principal, "acs:ram::"+acctA+":assumed-role/role-assume/") || hop2.Params["RoleArn"] != roleUser {
		t.Errorf("hop 2 not signed with hop 1's credentials: %+v", hop2)
	}
	if tok.Action != "GetAuthorizationToken" || !strings.HasPrefix(tok.Principal, "acs:ram::"+acctB+":assumed-role/role-acr/") || tok.Params["InstanceId"] != crossID {
		t.Errorf("token call not signed with hop 2's credentials: %+v", tok)
	}
	if l.Secret != w.lastToken(t).Token {
		t.Error("wrong token")
	}
	// ArnUser alone is one hop from the base credentials, and is refused: role-acr trusts only role-assume.
	w2 := newWorld(t)
	w2.useAK(t, devAK, devSK)
	k2 := w2.keychain(t, config.Registry{InstanceID: crossID, RegionID: "cn-shanghai", ArnUser: roleUser, Domains: []string{"cross.example.com"}})
	_, err = k2.Login(ctx(t), "cross.example.com")
	if err == nil || !strings.Contains(err.Error(), "NoPermission") || !strings.Contains(err.Error(), "sts:AssumeRole") {
		t.Fatalf("one hop: err = %v", err)
	}
	if w2.tokenCalls() != 0 {
		t.Error("token call after a failed hop")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ak, sk    string
		host      string
		regs      []config.Registry
		wantParts []string
	}{
		{"no registry password", noPwAK, noPwSK, "registry.cn-hangzhou.aliyuncs.com", nil, []string{"USER_NOT_EXIST", "set one once"}},
		{"wrong secret", devAK, "not-the-secret", "registry.cn-hangzhou.aliyuncs.com", nil, []string{"SignatureDoesNotMatch", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{"unknown key", "LTAI5tNoSuchKey000001", "x", "registry.cn-hangzhou.aliyuncs.com", nil, []string{"InvalidAccessKeyId.NotFound", "create a new AccessKey"}},
		{"denied", deniedAK, deniedSK, customDom, []config.Registry{{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing"}}, []string{"NoPermission", "cr:GetAuthorizationToken"}},
		{"no such role", devAK, devSK, customDom, []config.Registry{{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing", ArnUser: "acs:ram::" + acctB + ":role/nope"}}, []string{"EntityNotExist.Role", "registries[0]"}},
		{"unknown instance", devAK, devSK, customDom, []config.Registry{{Domains: []string{customDom}, InstanceID: "cri-zzzzzzzzzzzzzzzz", RegionID: "cn-beijing"}}, []string{"cri-zzzzzzzzzzzzzzzz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.useAK(t, tt.ak, tt.sk)
			_, err := w.keychain(t, tt.regs...).Login(ctx(t), tt.host)
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want a TokenError", err, err)
			}
			for _, p := range tt.wantParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%q does not say %q", err, p)
				}
			}
			if strings.Contains(err.Error(), tt.sk) && len(tt.sk) > 2 {
				t.Errorf("error text holds the secret: %q", err)
			}
		})
	}
}

func TestNoCredentialsIsNotFoundWithHint(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.keychain(t).Login(ctx(t), "registry.cn-hangzhou.aliyuncs.com")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(nf.Hint, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Fatalf("err = %v", err)
	}
	if len(w.fc.Calls()) != 0 {
		t.Error("API calls without credentials")
	}
	// crpi- instances: a hint about docker login.
	_, err = w.keychain(t).Login(ctx(t), "crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com")
	if !errors.As(err, &nf) || !strings.Contains(nf.Hint, "docker login") {
		t.Fatalf("crpi: err = %v", err)
	}
}

func TestExternalIDGoesToTheLastHop(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		reg  config.Registry
		ok   bool
	}{
		{"arnUser with externalId", config.Registry{ArnUser: "acs:ram::" + acctB + ":role/ext-role", ExternalID: "abc-123"}, true},
		{"arnService only, with externalId", config.Registry{ArnService: "acs:ram::" + acctB + ":role/ext-role", ExternalID: "abc-123"}, true},
		{"missing externalId", config.Registry{ArnUser: "acs:ram::" + acctB + ":role/ext-role"}, false},
		{"wrong externalId", config.Registry{ArnUser: "acs:ram::" + acctB + ":role/ext-role", ExternalID: "nope"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.useAK(t, devAK, devSK)
			if err := w.fc.AddRole(fakecloud.Role{AccountID: acctB, Name: "ext-role", TrustedAccounts: []string{acctA}, ExternalID: "abc-123"}); err != nil {
				t.Fatal(err)
			}
			reg := tt.reg
			reg.Domains, reg.InstanceID, reg.RegionID = []string{"cross.example.com"}, crossID, "cn-shanghai"
			_, err := w.keychain(t, reg).Login(ctx(t), "cross.example.com")
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
