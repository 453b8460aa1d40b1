package main

// Fidelity to the real cloud (issue 10), with the built binary: each variant of what ACR and STS
// really send, played by the fake, must give the right token, from the right API, on the right
// endpoint host, signed by the right key (hop 2's STS key when the entry has hops). The helper
// runs with its default endpoints; the internet stand-in (internet_test.go) routes the real
// host names to the fake and to the registries' challenges, which the fake's named modes play
// (fakecloud.ChallengeSpec, Challenges, SetWireVariants; the sources are in its package doc).

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// registryHosts answers each registry host's /v2/ with its handler, 404 for any other host.
type registryHosts map[string]http.Handler

func (rh registryHosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	if h, ok := rh[host]; ok {
		h.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// challengeOf answers /v2/ with 401 and exactly this WWW-Authenticate.
func challengeOf(header string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", header)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

var (
	roleAssume = "acs:ram::" + acct + ":role/role-assume"
	roleACR    = "acs:ram::" + acctB + ":role/role-acr"
	hop2       = acctB + ":assumed-role/role-acr/"
)

// hopsEntry is a config with one entry naming only an instance, behind ArnService → ArnUser.
func hopsEntry(instanceID string) string {
	return "registries:\n  - instanceId: " + instanceID + "\n    arnService: " + roleAssume + "\n    arnUser: " + roleACR + "\n"
}

// callsOf are the fake's calls of one action.
func callsOf(fc *fakecloud.Server, action string) []fakecloud.Call {
	var out []fakecloud.Call
	for _, c := range fc.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// checkHops checks the two AssumeRole calls: hop 1 signed by the user's key, hop 2 by hop 1's STS
// key, both on stsHost.
func checkHops(t *testing.T, fc *fakecloud.Server, stsHost string) {
	t.Helper()
	ar := callsOf(fc, "AssumeRole")
	if len(ar) != 2 {
		t.Fatalf("AssumeRole calls %+v, want 2", ar)
	}
	if ar[0].Params["RoleArn"] != roleAssume || ar[0].AccessKeyID != ak || ar[1].Params["RoleArn"] != roleACR ||
		!strings.HasPrefix(ar[1].AccessKeyID, "STS.") || !strings.Contains(ar[1].Principal, ":assumed-role/role-assume/") {
		t.Errorf("hops %+v", ar)
	}
	for _, c := range ar {
		if c.Host != stsHost {
			t.Errorf("AssumeRole %s on %s, want %s", c.Params["RoleArn"], c.Host, stsHost)
		}
	}
}

// checkToken checks that the helper answered the one token the fake issued, from action on crHost,
// for instanceID ("" for Personal), signed by a key of principal (a substring).
func checkToken(t *testing.T, fc *fakecloud.Server, c *credentials.Credentials, crHost, instanceID, principal string) {
	t.Helper()
	toks := fc.IssuedTokens()
	if len(toks) != 1 {
		t.Fatalf("issued %+v, want one token", toks)
	}
	tok := toks[0]
	wantEdition := "enterprise"
	if instanceID == "" {
		wantEdition = "personal"
	}
	if c.Secret != tok.Token || c.Username != tok.Username || tok.Edition != wantEdition || tok.InstanceID != instanceID || !strings.Contains(tok.Principal, principal) {
		t.Errorf("answered %s/%s; issued %+v; want %s token for %q signed by %s", c.Username, c.Secret, tok, wantEdition, instanceID, principal)
	}
	tc := callsOf(fc, "GetAuthorizationToken")
	if len(tc) != 1 || tc[0].Host != crHost || tc[0].AccessKeyID != tok.AccessKeyID {
		t.Errorf("token calls %+v, want one on %s", tc, crHost)
	}
	if instanceID == "" && (tc[0].Method != http.MethodGet || tc[0].Path != "/tokens") {
		t.Errorf("Personal token call %s %s, want GET /tokens", tc[0].Method, tc[0].Path)
	}
}

// registry.aliyuncs.com, with no region, is the cn-hangzhou Personal registry.
func TestFidelityRegionlessPersonalRegistry(t *testing.T) {
	e := newEnv(t)
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{"registry.aliyuncs.com": fakecloud.RegionlessRegistryChallenge()}.Handler()))
	c, err := e.get("registry.aliyuncs.com")
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, lastStderr())
	}
	checkToken(t, e.fc, c, "cr.cn-hangzhou.aliyuncs.com", "", ":user/dev")
	if tok := e.fc.IssuedTokens()[0]; tok.Region != "cn-hangzhou" || tok.AccessKeyID != ak {
		t.Errorf("token %+v, want cn-hangzhou signed by %s", tok, ak)
	}
}

// Every realm family, a realm in another region than the service's and extra service parts: an
// entry naming only the instance is chosen for its default domain, with its hops.
func TestFidelityChallengeVariants(t *testing.T) {
	const host = "cross-registry.cn-shanghai.cr.aliyuncs.com"
	for _, family := range fakecloud.RealmFamilies {
		for _, realmRegion := range []string{"", "cn-hangzhou"} {
			for _, extra := range [][]string{nil, {"2a"}} {
				spec := fakecloud.ChallengeSpec{Realm: family, Region: "cn-shanghai", RealmRegion: realmRegion, Suffix: "china:" + crossID, ExtraParts: extra}
				if family == fakecloud.RealmRegionless && realmRegion != "" {
					continue // no region in the realm at all
				}
				t.Run(spec.Header(), func(t *testing.T) {
					e := newEnv(t)
					e.config(hopsEntry(crossID))
					e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{host: spec}.Handler()))
					c, err := e.get(host)
					if err != nil {
						t.Fatalf("%v; stderr: %s", err, lastStderr())
					}
					checkToken(t, e.fc, c, "cr.cn-shanghai.aliyuncs.com", crossID, hop2)
					checkHops(t, e.fc, "sts.cn-shanghai.aliyuncs.com")
					if n := len(callsOf(e.fc, "ListInstanceEndpoint")) + len(callsOf(e.fc, "ListInstance")); n != 0 {
						t.Errorf("%d instance look-ups, want none: the challenge said it", n)
					}
				})
			}
		}
	}
}

// STS endpoints as the sts-20150401 SDK resolves them: ap-south-1 is in its endpoint map (the
// global sts.aliyuncs.com), VPC or not. ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED is an STS setting: the
// cr call of a public registry host stays on cr.<region> (vpc_test.go has the whole rule).
func TestFidelitySTSEndpointMap(t *testing.T) {
	const southID = "cri-south00000000001"
	const host = "south-registry.ap-south-1.cr.aliyuncs.com"
	for _, vpc := range []bool{false, true} {
		e := newEnv(t)
		if err := e.fc.AddInstance(fakecloud.Instance{AccountID: acctB, ID: southID, Name: "south", Region: "ap-south-1"}); err != nil {
			t.Fatal(err)
		}
		e.config(hopsEntry(southID))
		crHost := "cr.ap-south-1.aliyuncs.com"
		if vpc {
			e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
		}
		spec := fakecloud.ChallengeSpec{Realm: fakecloud.RealmEE, Region: "ap-south-1", Suffix: "china:" + southID}
		e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{host: spec}.Handler()))
		c, err := e.get(host)
		if err != nil {
			t.Fatalf("vpc %v: %v; stderr: %s", vpc, err, lastStderr())
		}
		checkToken(t, e.fc, c, crHost, southID, hop2)
		checkHops(t, e.fc, "sts.aliyuncs.com")
	}
}

// A -vpc registry host moves Enterprise calls to cr-vpc, the VPC variable moves STS to its VPC
// endpoint; the Personal GET /tokens stays on the public cr endpoint.
func TestFidelityVPCEndpoints(t *testing.T) {
	t.Run("personal", func(t *testing.T) {
		e := newEnv(t)
		e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
		e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{"registry-vpc.cn-hangzhou.aliyuncs.com": {Realm: fakecloud.RealmClassicVPC, Region: "cn-hangzhou", Suffix: "26842"}}.Handler()))
		c, err := e.get("registry-vpc.cn-hangzhou.aliyuncs.com")
		if err != nil {
			t.Fatalf("%v; stderr: %s", err, lastStderr())
		}
		checkToken(t, e.fc, c, "cr.cn-hangzhou.aliyuncs.com", "", ":user/dev")
	})
	t.Run("enterprise with hops", func(t *testing.T) {
		const host = "cross-registry-vpc.cn-shanghai.cr.aliyuncs.com"
		e := newEnv(t)
		e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
		e.config(hopsEntry(crossID))
		spec := fakecloud.ChallengeSpec{Realm: fakecloud.RealmEEVPC, Region: "cn-shanghai", Suffix: "china:" + crossID}
		e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{host: spec}.Handler()))
		c, err := e.get(host)
		if err != nil {
			t.Fatalf("%v; stderr: %s", err, lastStderr())
		}
		checkToken(t, e.fc, c, "cr-vpc.cn-shanghai.aliyuncs.com", crossID, hop2)
		checkHops(t, e.fc, "sts-vpc.cn-shanghai.aliyuncs.com")
	})
}

// A registry whose challenge says nothing usable: the entry naming only the instance is still
// chosen, by its own instance's ListInstanceEndpoint asked with its hops, and remembered.
func TestFidelityInstanceEntryWithoutChallenge(t *testing.T) {
	const host = "cross-registry.cn-shanghai.cr.aliyuncs.com"
	e := newEnv(t)
	e.config(hopsEntry(crossID) + "  - {}\n") // and a catch-all, which must not be taken
	in := newInternet(t, e.fc.URL(), registryHosts{host: challengeOf(`Basic realm="proxy"`)})
	e.useInternet(in)
	c, err := e.get(host)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, lastStderr())
	}
	checkToken(t, e.fc, c, "cr.cn-shanghai.aliyuncs.com", crossID, hop2)
	led := callsOf(e.fc, "ListInstanceEndpoint")
	if len(led) != 1 || led[0].Params["InstanceId"] != crossID || !strings.Contains(led[0].Principal, hop2) || led[0].Host != "cr.cn-shanghai.aliyuncs.com" {
		t.Errorf("ListInstanceEndpoint %+v, want one for %s with hop 2's key", led, crossID)
	}
	// The next get is served from the cache with no /v2/ and no API call.
	calls := len(e.fc.Calls())
	reads := 0
	for _, target := range in.Targets() {
		if target == host+":443" {
			reads++
		}
	}
	if c2, err := e.get(host); err != nil || c2.Secret != c.Secret {
		t.Fatalf("second get: %+v %v", c2, err)
	}
	after := 0
	for _, target := range in.Targets() {
		if target == host+":443" {
			after++
		}
	}
	if len(e.fc.Calls()) != calls || after != reads {
		t.Errorf("second get: %d API calls, %d more /v2/ reads", len(e.fc.Calls())-calls, after-reads)
	}
}

// When the instance cannot be established, the get fails naming the entry and the fix; no token
// is fetched with a chain that lacks the entry's hops.
func TestFidelityInstanceEntryCannotBeEstablished(t *testing.T) {
	const host = "cross-registry.cn-shanghai.cr.aliyuncs.com"
	e := newEnv(t)
	if err := e.fc.AddUser(fakecloud.User{AccountID: acct, Name: "nohops", AccessKeyID: "LTAI5tFidelityNoHops1", AccessKeySecret: "fidelity-nohops-secret-0001",
		RegistryPassword: true, Deny: []string{"sts:AssumeRole"}}); err != nil {
		t.Fatal(err)
	}
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAI5tFidelityNoHops1"
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "fidelity-nohops-secret-0001"
	e.config(hopsEntry(crossID) + "  - {}\n")
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{}.Handler()))
	r := e.run(host, "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"registries[0] (" + crossID + ")", "add `domains: [" + host + "]`", "cr:ListInstanceEndpoint"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if n := len(callsOf(e.fc, "GetAuthorizationToken")); n != 0 {
		t.Errorf("%d token calls, want none", n)
	}
}

// An entry's instance that the region of the host does not know (INSTANCE_NOT_EXIST: another
// region, or credentials that cannot see it) is no answer: the get fails, never takes the
// catch-all silently.
func TestFidelityInstanceEntryNotInTheHostsRegion(t *testing.T) {
	const host = "team-registry.cn-beijing.cr.aliyuncs.com"
	e := newEnv(t)
	e.config(hopsEntry(crossID) + "  - {}\n")
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{}.Handler()))
	r := e.run(host, "get")
	if r.code != 1 || !strings.Contains(r.stderr, "INSTANCE_NOT_EXIST") || !strings.Contains(r.stderr, "regionId") {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	led := callsOf(e.fc, "ListInstanceEndpoint")
	if len(led) != 1 || led[0].Host != "cr.cn-beijing.aliyuncs.com" || !strings.Contains(led[0].Principal, hop2) {
		t.Errorf("ListInstanceEndpoint %+v", led)
	}
	if n := len(callsOf(e.fc, "GetAuthorizationToken")); n != 0 {
		t.Errorf("%d token calls, want none", n)
	}
}

// A custom domain without instanceId: the challenge (any realm family) names the instance, its
// own endpoint list must name the domain before a token goes to it.
func TestFidelityCustomDomainChallenge(t *testing.T) {
	spec := fakecloud.ChallengeSpec{Realm: fakecloud.RealmEE, Region: "cn-beijing", RealmRegion: "cn-hangzhou", Suffix: "china:" + teamID, ExtraParts: []string{"2a"}}
	e := newEnv(t)
	e.config("registries:\n  - domains: [registry.example.com, evil.example.com]\n")
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{"registry.example.com": spec, "evil.example.com": spec}.Handler()))
	c, err := e.get("registry.example.com")
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, lastStderr())
	}
	checkToken(t, e.fc, c, "cr.cn-beijing.aliyuncs.com", teamID, ":user/dev")
	if led := callsOf(e.fc, "ListInstanceEndpoint"); len(led) != 1 || led[0].Host != "cr.cn-beijing.aliyuncs.com" || led[0].Params["InstanceId"] != teamID {
		t.Errorf("ListInstanceEndpoint %+v", led)
	}
	// The same challenge on a domain the instance does not list: no token.
	r := e.run("evil.example.com", "get")
	if r.code != 1 || !strings.Contains(r.stderr, "does not list evil.example.com") || len(e.fc.IssuedTokens()) != 1 {
		t.Errorf("evil.example.com: exit %d stdout %q stderr %s, %d tokens", r.code, r.stdout, r.stderr, len(e.fc.IssuedTokens()))
	}
}

// A crpi- host answers with the classic Personal challenge; it gets no token unless the user opts
// in, and doctor calls the opt-in experimental.
func TestFidelityPersonalInstance(t *testing.T) {
	const host = "crpi-abcd1234efgh5678.cn-hangzhou.personal.cr.aliyuncs.com"
	e := newEnv(t)
	spec := fakecloud.PersonalChallenge("cn-hangzhou")
	classic := spec.Header()
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{host: spec}.Handler()))
	r := e.run(host, "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound || len(e.fc.Calls()) != 0 {
		t.Fatalf("exit %d stdout %q, %d API calls", r.code, r.stdout, len(e.fc.Calls()))
	}
	r = e.run("", "doctor", "--online", host)
	for _, want := range []string{"docker login " + host, "WWW-Authenticate:", classic, "challenge says:", "Personal Edition registry in cn-hangzhou"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor lacks %q:\n%s", want, r.stdout)
		}
	}
	e.config("personalInstanceTokens: true\n")
	r = e.run("", "doctor", host)
	if !strings.Contains(r.stdout, "personalInstanceTokens is experimental") {
		t.Errorf("doctor with the opt-in:\n%s", r.stdout)
	}
}

// doctor --online prints the raw WWW-Authenticate header it read and what it concluded.
func TestFidelityDoctorPrintsTheRawChallenge(t *testing.T) {
	const host = "team-registry.cn-beijing.cr.aliyuncs.com"
	e := newEnv(t)
	spec := fakecloud.ChallengeSpec{Realm: fakecloud.RealmEE, Region: "cn-beijing", RealmRegion: "cn-hangzhou", Suffix: "china:" + teamID, ExtraParts: []string{"2a"}}
	header := spec.Header()
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{host: spec}.Handler()))
	r := e.run("", "doctor", "--online", host)
	for _, want := range []string{"challenge URL:", "https://" + host + "/v2/", "WWW-Authenticate:", header, "challenge says:", "Enterprise Edition instance " + teamID + " in cn-beijing", "step registry token", "no problem found"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// The answers' types vary (fakecloud.WireVariants): expiries as numeric strings, TotalCount as a
// string, CreateTime swapped. Every token still comes through with the expiry the API gave.
func TestFidelityWireVariants(t *testing.T) {
	for _, variants := range [][]fakecloud.WireVariant{nil, fakecloud.WireVariants} {
		e := newEnv(t)
		if err := e.fc.SetWireVariants(variants...); err != nil {
			t.Fatal(err)
		}
		// No challenge: the instance of the default domain is found with ListInstance by name.
		e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{}.Handler()))
		for _, host := range []string{"registry.cn-hangzhou.aliyuncs.com", "team-registry.cn-beijing.cr.aliyuncs.com"} {
			c, err := e.get(host)
			if err != nil {
				t.Fatalf("%v %s: %v; stderr: %s", variants, host, err, lastStderr())
			}
			toks := e.fc.IssuedTokens()
			tok := toks[len(toks)-1]
			if c.Secret != tok.Token {
				t.Errorf("%v %s: answered another token than issued", variants, host)
			}
			// The cached expiry is the API's, read whatever its wire type: the token's life is
			// measured against the answer's Date header (whole seconds, counted as up to a
			// second late), so the cache may say up to two seconds earlier, never later.
			r := e.run("", "doctor", host)
			found := false
			for late := 0; late <= 2; late++ {
				if strings.Contains(r.stdout, "expires "+tok.ExpiresAt.Add(-time.Duration(late)*time.Second).UTC().Format(time.RFC3339)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%v %s: doctor lacks the expiry %s (or up to 2 s earlier):\n%s", variants, host, tok.ExpiresAt.UTC().Format(time.RFC3339), r.stdout)
			}
		}
		if li := callsOf(e.fc, "ListInstance"); len(li) != 1 || li[0].Host != "cr.cn-beijing.aliyuncs.com" || e.fc.IssuedTokens()[1].InstanceID != teamID {
			t.Errorf("%v: ListInstance %+v, tokens %+v", variants, li, e.fc.IssuedTokens())
		}
	}
}
