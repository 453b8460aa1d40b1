package credhelper

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// doctorKeys is the --json schema: the keys a report may have, and (true) those it always has.
var doctorKeys = map[string]bool{
	"input": true, "acr": true, "storedLogin": true,
	"host": false, "edition": false, "region": false, "instance": false, "how": false, "configFile": false,
	"configEntry": false, "roleChain": false, "credentialSources": false, "credentialSource": false,
	"ecsSkipped": false, "cacheDir": false, "cachedToken": false, "steps": false, "problems": false, "notices": false,
	"registryChallenge": false, "stsEndpoint": false, "crEndpoint": false, "profile": false, "configFileStatus": true, "proposedEntry": false,
}

var stepKeys = []string{"detail", "failure", "ms", "name", "ok"}

// TestDoctor drives doctor as a user does: its text, its --json and its exit code, offline and
// --online against the fake, for a working host and for each kind of failure.
func TestDoctor(t *testing.T) {
	t.Parallel()
	cross := config.Registry{Domains: []string{"cross.example.com"}, InstanceID: crossID, RegionID: "cn-shanghai", ArnService: roleSvc, ArnUser: roleUser}
	tests := []struct {
		name      string
		ak, sk    string // "" = no credentials at all
		regs      []config.Registry
		stored    string // a host with a `docker login`
		args      []string
		code      int
		wantText  []string // lines (substrings) of the text report, in order
		wantSteps []string // names of the --online steps, in order; "!" prefix = failed
		problem   string   // substring of the one problem; "" = none
		challenge string   // the WWW-Authenticate the registry answers; "" = a 404
		crpi      bool     // personalInstanceTokens: true
		public    bool     // no endpoint overrides: the endpoints the helper would use
	}{
		// The VPC rule as doctor shows it (offline: no call is made).
		{name: "a -vpc Enterprise host: cr-vpc, and why", ak: devAK, sk: devSK, public: true, args: []string{"team-registry-vpc.cn-beijing.cr.aliyuncs.com"},
			wantText: []string{"ACR API calls on cr-vpc.cn-beijing.aliyuncs.com: team-registry-vpc.cn-beijing.cr.aliyuncs.com is a VPC host", "ACR API endpoint:", "https://cr-vpc.cn-beijing.aliyuncs.com", "no problem found"}},
		{name: "a -vpc Personal host: cr", ak: devAK, sk: devSK, public: true, args: []string{"registry-vpc.cn-hangzhou.aliyuncs.com"},
			wantText: []string{"ACR API endpoint:", "https://cr.cn-hangzhou.aliyuncs.com", "no problem found"}},
		{name: "personal host, offline", ak: devAK, sk: devSK, args: []string{"registry.cn-hangzhou.aliyuncs.com"},
			wantText: []string{"registry.cn-hangzhou.aliyuncs.com", "host:", "Alibaba Cloud ACR: true", "edition:", "personal", "region:", "cn-hangzhou",
				"found by:", "Personal Edition (classic) host", "config file:", "/test/config.yaml", "credentials:", "environment AccessKey",
				"stored login:", "false", "cached token:", "none", "no problem found"}},
		{name: "personal host, online", ak: devAK, sk: devSK, args: []string{"--online", "registry.cn-hangzhou.aliyuncs.com"},
			wantSteps: []string{"base credentials (environment AccessKey)", "registry token"},
			wantText:  []string{"step base credentials (environment AccessKey)", "ok", "AccessKey " + devAK[:8], "step registry token", "ok", "user cr_temp_user", "no problem found"}},
		{name: "cross-account chain, online", ak: devAK, sk: devSK, regs: []config.Registry{cross}, args: []string{"--online", "cross.example.com"},
			wantSteps: []string{"base credentials (environment AccessKey)", "AssumeRole " + roleSvc, "AssumeRole " + roleUser, "registry token"},
			wantText:  []string{"edition:", "enterprise (custom domain)", "instance:", crossID, "config entry:", "registries[0] (cross.example.com)", "role chain:", "base credentials → " + roleSvc + " → " + roleUser, "STS endpoint:", "http://", "no problem found"}},
		{name: "usage: no host", ak: devAK, sk: devSK, args: nil, code: 2},
		{name: "usage: unknown flag", ak: devAK, sk: devSK, args: []string{"--frob", "registry.cn-hangzhou.aliyuncs.com"}, code: 2},
		{name: "not a host", ak: devAK, sk: devSK, args: []string{"https://"}, code: 1, problem: "write the registry host as it appears in the image name"},
		{name: "not ACR and not listed", ak: devAK, sk: devSK, args: []string{"docker.io"}, code: 1, problem: "docker.io is Docker Hub, not an Alibaba Cloud ACR host, and no entry of the config file lists it in domains",
			wantText: []string{"config file:", "/test/config.yaml", "PROBLEM:", "to serve it:", "KMS Secrets Manager secret", "registries:", "- domains: [docker.io]", "secret: dockerhub-pull"}},
		{name: "a crpi- host is ACR", ak: devAK, sk: devSK, args: []string{"crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com"}, code: 1, problem: "docker login",
			wantText: []string{"Alibaba Cloud ACR: true", "edition:", "personal-instance", "region:", "cn-hangzhou"}},
		{name: "not ACR but a stored login", ak: devAK, sk: devSK, stored: "registry.example.org", args: []string{"registry.example.org"},
			wantText: []string{"found by:", "a stored login (docker login) is used for this host", "no problem found"}},
		{name: "personal instance without tokens", ak: devAK, sk: devSK, args: []string{"crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com"}, code: 1, problem: "run `docker login crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com` once"},
		// Offline, no credentials is a note: the helper still does its job (not found, anonymous
		// pulls), so a fresh machine's first `doctor` exits 0. Online it is a problem.
		{name: "no credentials", args: []string{"registry.cn-hangzhou.aliyuncs.com"},
			wantText: []string{"credentials:", "none", "NOTE: no Alibaba Cloud credentials on this machine", "clients pull anonymously", "no problem found"}},
		{name: "online: no credentials", args: []string{"--online", "registry.cn-hangzhou.aliyuncs.com"}, code: 1, problem: "no Alibaba Cloud credentials on this machine"},
		{name: "online: no registry password", ak: noPwAK, sk: noPwSK, args: []string{"--online", "registry.cn-hangzhou.aliyuncs.com"}, code: 1,
			wantSteps: []string{"base credentials (environment AccessKey)", "!registry token"}, problem: "registry token: Alibaba Cloud ACR login for registry.cn-hangzhou.aliyuncs.com failed: cr GetAuthorizationToken failed: USER_NOT_EXIST"},
		{name: "online: wrong secret", ak: devAK, sk: "not-the-secret", args: []string{"--online", "registry.cn-hangzhou.aliyuncs.com"}, code: 1,
			wantSteps: []string{"base credentials (environment AccessKey)", "!registry token"}, problem: "ALIBABA_CLOUD_ACCESS_KEY_SECRET"},
		// --online prints the raw challenge and what it concluded, even for a variant realm.
		{name: "online: the raw challenge of an Enterprise default domain", ak: devAK, sk: devSK, args: []string{"--online", "team-registry.cn-beijing.cr.aliyuncs.com"},
			challenge: `Bearer realm="https://dockerauth-ee.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:` + teamID + `:2a"`,
			wantSteps: []string{"base credentials (environment AccessKey)", "registry token"},
			wantText: []string{"challenge URL:", "/v2/", "WWW-Authenticate:", `Bearer realm="https://dockerauth-ee.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:` + teamID + `:2a"`,
				"challenge says:", "Enterprise Edition instance " + teamID + " in cn-beijing", "no problem found"}},
		{name: "online: a challenge that is not ACR's is shown as read", ak: devAK, sk: devSK, args: []string{"--online", "registry.cn-hangzhou.aliyuncs.com"},
			challenge: `Bearer realm="https://auth.example.com/token",service="registry.example.com"`,
			wantSteps: []string{"base credentials (environment AccessKey)", "registry token"},
			wantText: []string{"WWW-Authenticate:", `Bearer realm="https://auth.example.com/token",service="registry.example.com"`,
				"challenge says:", "not an ACR challenge: ", "realm host is not an Alibaba Cloud registry auth host", "no problem found"}},
		{name: "offline: no challenge lines", ak: devAK, sk: devSK, args: []string{"registry.cn-hangzhou.aliyuncs.com"},
			challenge: `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`,
			wantText:  []string{"cached token:", "none", "no problem found"}},
		{name: "personal instance tokens are experimental", ak: devAK, sk: devSK, crpi: true, args: []string{"crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com"},
			wantText: []string{"NOTE: personalInstanceTokens is experimental", "docker login", "no problem found"}},
		{name: "online: a hop refused stops the steps", ak: deniedAK, sk: deniedSK, regs: []config.Registry{cross}, args: []string{"--online", "cross.example.com"}, code: 1,
			wantSteps: []string{"base credentials (environment AccessKey)", "!AssumeRole " + roleSvc}, problem: "AssumeRole " + roleSvc + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.ak != "" {
				w.useAK(t, tt.ak, tt.sk)
			}
			if tt.challenge != "" {
				w.setChallenge(rawChallenge(tt.challenge))
			}
			doctor := func(asJSON bool) (int, string, string) {
				k := w.keychain(t, slices.Clone(tt.regs)...)
				k.Config.PersonalInstanceTokens = tt.crpi
				if tt.public {
					k.Config.Endpoints = config.Endpoints{}
				}
				logins, err := cache.OpenLoginsDir(w.dir + "-logins")
				if err != nil {
					t.Fatal(err)
				}
				if tt.stored != "" {
					if err := logins.Put(tt.stored, "user", "stored-secret"); err != nil {
						t.Fatal(err)
					}
				}
				k.Logins = logins
				args := tt.args
				if asJSON {
					args = append([]string{"--json"}, args...)
				}
				var stdout, stderr bytes.Buffer
				code := Doctor(ctx(t), k, args, &stdout, &stderr)
				return code, stdout.String(), stderr.String()
			}

			code, text, stderr := doctor(false)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s%s", code, tt.code, text, stderr)
			}
			if tt.code == 2 {
				if text != "" || !strings.Contains(stderr, "Usage: docker-credential-acr doctor") {
					t.Fatalf("usage: stdout %q stderr %q", text, stderr)
				}
				return
			}
			rest := text
			for _, want := range tt.wantText {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("text lacks %q (in order):\n%s", want, text)
				}
				rest = rest[i+len(want):]
			}
			if tt.problem != "" && !strings.Contains(text, "  PROBLEM: ") || tt.problem == "" && !strings.HasSuffix(text, "  no problem found\n") {
				t.Errorf("text:\n%s", text)
			}
			for _, secret := range []string{devSK, noPwSK, deniedSK, "stored-secret", w.fc.Endpoint() + "/?"} {
				if strings.Contains(text+stderr, secret) {
					t.Errorf("the report shows %q", secret)
				}
			}

			code, js, _ := doctor(true)
			if code != tt.code {
				t.Fatalf("--json exit code %d, want %d", code, tt.code)
			}
			var raw []map[string]json.RawMessage
			if err := json.Unmarshal([]byte(js), &raw); err != nil || len(raw) != 1 {
				t.Fatalf("--json: %v\n%s", err, js)
			}
			for k := range raw[0] {
				if _, ok := doctorKeys[k]; !ok {
					t.Errorf("--json has key %q, not in the schema", k)
				}
			}
			for k, required := range doctorKeys {
				if _, ok := raw[0][k]; required && !ok {
					t.Errorf("--json lacks %q", k)
				}
			}
			var reports []doctorReport
			dec := json.NewDecoder(strings.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&reports); err != nil {
				t.Fatal(err)
			}
			r := reports[0]
			var steps []string
			for i, s := range r.Steps {
				name := s.Name
				if !s.OK {
					name = "!" + name
					if s.Failure == "" {
						t.Errorf("step %s failed without saying why", s.Name)
					}
				}
				steps = append(steps, name)
				var m map[string]json.RawMessage
				var rs []json.RawMessage
				json.Unmarshal(raw[0]["steps"], &rs)
				json.Unmarshal(rs[i], &m)
				keys := slices.Collect(func(yield func(string) bool) {
					for k := range m {
						if !yield(k) {
							return
						}
					}
				})
				sort.Strings(keys)
				for _, k := range keys {
					if !slices.Contains(stepKeys, k) {
						t.Errorf("step key %q not in the schema", k)
					}
				}
			}
			if !reflect.DeepEqual(steps, tt.wantSteps) {
				t.Errorf("steps %q, want %q", steps, tt.wantSteps)
			}
			switch {
			case tt.problem == "" && len(r.Problems) != 0:
				t.Errorf("problems %q", r.Problems)
			case tt.problem != "" && (len(r.Problems) != 1 || !strings.Contains(r.Problems[0], tt.problem)):
				t.Errorf("problems %q, want one containing %q", r.Problems, tt.problem)
			}
			if r.Input != tt.args[len(tt.args)-1] {
				t.Errorf("input %q", r.Input)
			}
			online := slices.Contains(tt.args, "--online")
			if online != (r.Challenge != nil) || online && r.Challenge.Header != tt.challenge {
				t.Errorf("online %v, challenge %+v, want header %q", online, r.Challenge, tt.challenge)
			}
			if strings.Contains(text, "WWW-Authenticate:") != online {
				t.Errorf("challenge lines shown = %v, online %v", !online, online)
			}
		})
	}
}

// rawChallenge answers /v2/ with 401 and exactly this WWW-Authenticate header.
func rawChallenge(header string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", header)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

// A line of the text report per step: name, status, latency, then detail or failure.
func TestDoctorStepLine(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	(&doctorReport{Input: "h", Steps: []doctorStep{{Name: "registry token", OK: false, Millis: 12.34, Failure: "it broke"}}, Problems: []string{"registry token: it broke"}}).print(&b)
	if !regexp.MustCompile(`(?m)^  step registry token +FAILED +12\.3 ms  it broke$`).MatchString(b.String()) || !strings.Contains(b.String(), "  PROBLEM: registry token: it broke\n") {
		t.Errorf("text:\n%s", b.String())
	}
}
