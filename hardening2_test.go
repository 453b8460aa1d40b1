package main

// Hardening, round two (issue 11): the built binary against hostile files, bodies, regions and
// error text. These tests build their own small world (h2World) so that they do not depend on
// the builders of main_test.go; they only share the binary TestMain builds (helperBin).

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const (
	h2Acct = "333333333333"
	h2AK   = "LTAI5tHardening2Key01"
	h2SK   = "hardening2-user-secret-0001"
)

// h2World is a fake Alibaba Cloud with one Personal user and the environment that points the
// binary at it (and nowhere else: HTTPS goes to a proxy that refuses).
type h2World struct {
	t    *testing.T
	fc   *fakecloud.Server
	home string
	vars map[string]string
	// proxied records the hosts the binary tried to reach through the (refusing) proxy.
	proxied *targets
}

type targets struct {
	mu    sync.Mutex
	hosts []string
}

func (p *targets) add(h string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hosts = append(p.hosts, h)
}

func (p *targets) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

func newH2World(t *testing.T) *h2World {
	t.Helper()
	fc := fakecloud.New()
	if err := fc.AddUser(fakecloud.User{AccountID: h2Acct, Name: "dev", AccessKeyID: h2AK, AccessKeySecret: h2SK, RegistryPassword: true}); err != nil {
		t.Fatal(err)
	}
	if err := fc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	proxied := &targets{}
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.add(r.Host)
		http.Error(w, "no internet in tests", http.StatusForbidden)
	}))
	t.Cleanup(refuse.Close)
	home := t.TempDir()
	return &h2World{t: t, fc: fc, home: home, proxied: proxied, vars: map[string]string{
		"PATH":                                os.Getenv("PATH"),
		"HOME":                                home,
		"XDG_CACHE_HOME":                      filepath.Join(home, "cache"),
		"XDG_DATA_HOME":                       filepath.Join(home, "data"),
		"XDG_CONFIG_HOME":                     filepath.Join(home, "config"),
		"XDG_CONFIG_DIRS":                     filepath.Join(home, "etc-xdg"),
		"HTTPS_PROXY":                         refuse.URL,
		"HTTP_PROXY":                          refuse.URL,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
		"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT":   "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_STS_ENDPOINT":          "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID":         h2AK,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":     h2SK,
	}}
}

func (w *h2World) environ() []string {
	var out []string
	for k, v := range w.vars {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

type h2Result struct {
	stdout, stderr string
	code           int
	took           time.Duration
	maxRSSKiB      int64
}

// run runs the binary with stdin and args; it is killed after limit (0: one minute) so that a
// hang is a failure, not a stuck suite.
func (w *h2World) run(limit time.Duration, stdin string, args ...string) h2Result {
	w.t.Helper()
	if limit == 0 {
		limit = time.Minute
	}
	cmd := exec.Command(helperBin, args...)
	cmd.Env = w.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := h2Result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(t0)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
	}
	if cmd.ProcessState != nil {
		r.maxRSSKiB = maxRSS(cmd.ProcessState)
	}
	return r
}

// TestControlSequencesInCloudErrorsNeverReachTheTerminal: an API error whose Message carries
// terminal control sequences (a title change, a screen clear, a bidi override) is shown without
// them, on stderr and on stdout in strict mode.
func TestControlSequencesInCloudErrorsNeverReachTheTerminal(t *testing.T) {
	w := newH2World(t)
	const hostile = "denied\x1b]0;pwned\x07\x1b[2J\u202eevil\u009b31m\rend"
	w.fc.InjectPersistent(fakecloud.ActionPersonalToken, fakecloud.FaultAPIError(403, "Forbidden.RAM", hostile))
	check := func(name, s string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\r", "]0;pwned", "[2J"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s holds %q: %q", name, bad, s)
			}
		}
		if !strings.Contains(s, "Forbidden.RAM") || !strings.Contains(s, "denied") || !strings.Contains(s, "end") {
			t.Errorf("%s lost the readable text: %q", name, s)
		}
	}
	// Default mode: "not found" on stdout, the reason on stderr.
	r := w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	check("stderr", r.stderr)
	// Strict mode: the reason on stdout.
	w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
	r = w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
	if r.code != 1 {
		t.Fatalf("strict: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	check("strict stdout", r.stdout)
	// doctor --online shows the same text.
	delete(w.vars, "DOCKER_CREDENTIAL_ACR_STRICT")
	r = w.run(0, "", "doctor", "--online", "registry.cn-hangzhou.aliyuncs.com")
	check("doctor stdout", r.stdout)
}

// TestConfigFIFOFailsFast: a named pipe (or any file that is not a regular file) as the config
// file is refused at once with the reason, whether named by DOCKER_CREDENTIAL_ACR_CONFIG or
// found in the XDG config dirs; it never blocks the command (a writer that never comes would
// hang it past every deadline).
func TestConfigFIFOFailsFast(t *testing.T) {
	for _, how := range []string{"DOCKER_CREDENTIAL_ACR_CONFIG", "XDG_CONFIG_HOME"} {
		t.Run(how, func(t *testing.T) {
			w := newH2World(t)
			w.vars["DOCKER_CREDENTIAL_ACR_TIMEOUT"] = "2s"
			dir := filepath.Join(w.home, "config", "docker-credential-acr")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			fifo := filepath.Join(dir, "config.yaml")
			if err := mkfifo(fifo); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			if how == "DOCKER_CREDENTIAL_ACR_CONFIG" {
				w.vars[how] = fifo
			}
			r := w.run(time.Minute, "registry.cn-hangzhou.aliyuncs.com", "get")
			t.Logf("time to fail on a FIFO config (%s): %v", how, r.took)
			if r.code == -1 {
				t.Fatalf("the helper hung on the FIFO and was killed after %v", r.took)
			}
			if r.code != 1 || !strings.Contains(r.stdout, fifo) || !strings.Contains(r.stdout, "not a regular file") {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func (w *h2World) config(yaml string) {
	w.t.Helper()
	p := filepath.Join(w.home, "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.vars["DOCKER_CREDENTIAL_ACR_CONFIG"] = p
}

// TestSTSRegionIsARegion: ALIBABA_CLOUD_STS_REGION names the STS endpoint of the role hop; a
// value that is not a region id ("evil.example.test:443/#" once built sts.evil.example.test and
// sent it a signed AssumeRole with the security token) is refused before any request, with the
// variable named, and no other endpoint is used instead.
func TestSTSRegionIsARegion(t *testing.T) {
	for _, region := range []string{"evil.example.test:443/#", "evil.example.test", "cn-hangzhou/x", "CN-HANGZHOU"} {
		t.Run(region, func(t *testing.T) {
			w := newH2World(t)
			delete(w.vars, "ALIBABA_CLOUD_STS_ENDPOINT") // the endpoint is built from the region
			w.vars["ALIBABA_CLOUD_SECURITY_TOKEN"] = "sts-security-token-h2-0001"
			w.vars["ALIBABA_CLOUD_STS_REGION"] = region
			w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
			w.config("registries:\n  - arnUser: acs:ram::" + h2Acct + ":role/role-acr\n")
			r := w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
			if r.code != 1 || !strings.Contains(r.stdout, "ALIBABA_CLOUD_STS_REGION") || !strings.Contains(r.stdout, "not a region id") {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if got := w.proxied.list(); len(got) != 0 {
				t.Errorf("the helper tried to reach %v", got)
			}
			if n := len(w.fc.Calls()); n != 0 {
				t.Errorf("%d API calls, want 0", n)
			}
		})
	}
}

// endlessBody answers every request with HTTP 200 and a JSON body that never ends: fast, up
// to limit bytes and then stalled (an endless body that a client without a bound reads into
// memory until the deadline), or slow, a byte every tick (which only the deadline can stop).
func endlessBody(t *testing.T, limit int64, tick time.Duration) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"data":{"authorizationToken":"`)
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		if tick > 0 {
			chunk = chunk[:1]
		}
		var sent int64
		for sent < limit {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			sent += int64(len(chunk))
			w.(http.Flusher).Flush()
			if tick > 0 {
				select {
				case <-time.After(tick):
				case <-r.Context().Done():
					return
				}
			}
		}
		<-r.Context().Done()
	}))
	t.Cleanup(func() { s.CloseClientConnections(); s.Close() })
	return s
}

// TestHugeAPIBodyIsBounded: an API endpoint that answers with an endless body (here 512 MiB, then
// nothing) is read up to the bound and refused, with small peak memory; one that trickles its
// body is cut by the command's deadline. Both end with an error, whatever the machine's speed.
func TestHugeAPIBodyIsBounded(t *testing.T) {
	t.Run("fast", func(t *testing.T) {
		w := newH2World(t)
		srv := endlessBody(t, 512<<20, 0)
		w.vars["DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"] = srv.URL
		w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
		w.vars["DOCKER_CREDENTIAL_ACR_TIMEOUT"] = "20s"
		r := w.run(2*time.Minute, "registry.cn-hangzhou.aliyuncs.com", "get")
		t.Logf("endless fast body: %v wall, peak RSS %d KiB; stdout %q", r.took, r.maxRSSKiB, r.stdout)
		if r.code != 1 || !strings.Contains(r.stdout, "larger than") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if r.maxRSSKiB > 128<<10 {
			t.Errorf("peak RSS %d KiB: the body was read into memory", r.maxRSSKiB)
		}
	})
	t.Run("slow", func(t *testing.T) {
		w := newH2World(t)
		srv := endlessBody(t, 1<<40, 20*time.Millisecond)
		w.vars["DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"] = srv.URL
		w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
		w.vars["DOCKER_CREDENTIAL_ACR_TIMEOUT"] = "3s"
		r := w.run(2*time.Minute, "registry.cn-hangzhou.aliyuncs.com", "get")
		t.Logf("endless slow body, 3s deadline: %v wall, peak RSS %d KiB; stdout %q", r.took, r.maxRSSKiB, r.stdout)
		if r.code != 1 || !strings.Contains(r.stdout, "deadline") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// TestRegionEntryServesOnlyItsRegion: a catch-all entry's regionId once rewrote the region of
// every Personal host (a cn-hangzhou host got a cn-beijing token). An entry with regionId alone is
// the ACK add-on's Personal Edition entry of that region: a host that names another region keeps
// its region and is not that entry's, in the token and in doctor alike.
func TestRegionEntryServesOnlyItsRegion(t *testing.T) {
	w := newH2World(t)
	w.config("registries:\n  - regionId: cn-beijing\n")
	for _, tc := range []struct{ host, region string }{
		{"registry.cn-hangzhou.aliyuncs.com", "cn-hangzhou"},
		{"registry.cn-beijing.aliyuncs.com", "cn-beijing"},
	} {
		r := w.run(0, tc.host, "get")
		if r.code != 0 {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", tc.host, r.code, r.stdout, r.stderr)
		}
		toks := w.fc.IssuedTokens()
		if last := toks[len(toks)-1]; !strings.Contains(r.stdout, last.Token) {
			t.Errorf("%s: answered another token than the one issued", tc.host)
		}
		d := w.run(0, "", "doctor", "--json", tc.host)
		if d.code != 0 || !strings.Contains(d.stdout, `"region": "`+tc.region+`"`) {
			t.Errorf("doctor %s: exit %d, stdout %q", tc.host, d.code, d.stdout)
		}
		if applies := strings.Contains(d.stdout, `"configEntry"`); applies != (tc.region == "cn-beijing") {
			t.Errorf("doctor %s: config entry shown %v, want %v:\n%s", tc.host, applies, tc.region == "cn-beijing", d.stdout)
		}
	}
	if n := w.fc.Count("GetAuthorizationToken"); n != 2 {
		t.Errorf("%d token calls, want 2 (one per region)", n)
	}
}

// TestWhatHeldStillHolds: with bodies bounded by a wrapping transport, an API endpoint's
// redirect is still not followed (the signed request never reaches the target), an endpoint
// with an untrusted certificate gets no request at all, and plain http off loopback is refused
// before any connection.
func TestWhatHeldStillHolds(t *testing.T) {
	t.Run("redirect not followed", func(t *testing.T) {
		w := newH2World(t)
		redirect := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, w.fc.URL()+r.URL.RequestURI(), http.StatusFound)
		}))
		t.Cleanup(redirect.Close)
		w.vars["DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"] = redirect.URL
		w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
		r := w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
		if r.code != 1 || len(w.fc.Calls()) != 0 {
			t.Errorf("exit %d, %d calls reached the redirect's target; stdout %q", r.code, len(w.fc.Calls()), r.stdout)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		w := newH2World(t)
		var requests int
		var mu sync.Mutex
		tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			mu.Lock()
			requests++
			mu.Unlock()
		}))
		tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
		tlsSrv.StartTLS()
		t.Cleanup(tlsSrv.Close)
		w.vars["DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"] = tlsSrv.URL
		w.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "true"
		r := w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
		mu.Lock()
		defer mu.Unlock()
		if r.code != 1 || requests != 0 || !strings.Contains(r.stdout, "certificate") {
			t.Errorf("exit %d, %d requests; stdout %q", r.code, requests, r.stdout)
		}
	})
	t.Run("plain http off loopback", func(t *testing.T) {
		w := newH2World(t)
		w.vars["DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"] = "http://192.0.2.1:80"
		r := w.run(0, "registry.cn-hangzhou.aliyuncs.com", "get")
		if r.code != 1 || !strings.Contains(r.stdout, "plain http") || len(w.proxied.list()) != 0 {
			t.Errorf("exit %d, stdout %q, proxied %v", r.code, r.stdout, w.proxied.list())
		}
	})
}
