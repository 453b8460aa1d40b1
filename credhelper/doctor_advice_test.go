package credhelper

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// doctorJSON runs doctor --json with args and returns its one report and exit code.
func doctorJSON(t *testing.T, k *keychain.Keychain, args ...string) (doctorReport, int, string) {
	t.Helper()
	var stdout, text, stderr bytes.Buffer
	code := Doctor(ctx(t), k, append([]string{"--json"}, args...), &stdout, &stderr)
	var reports []doctorReport
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("doctor --json %q: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	Doctor(ctx(t), k, args, &text, &stderr)
	return reports[0], code, text.String()
}

// TestDoctorProposesTheEntryThatFits: for each kind of host the helper does not serve, doctor
// proposes the entry that fits, as YAML; pasted into the config file (each proposal on its own),
// the same doctor then finds the host served by that entry, of the kind proposed.
func TestDoctorProposesTheEntryThatFits(t *testing.T) {
	t.Parallel()
	const acrChallenge = `Bearer realm="https://dockerauth.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:`
	for _, tt := range []struct {
		name, host string
		online     bool
		challenge  string   // "" = a 404 (not ACR)
		kind       string   // of the advice
		served     []string // per proposal: the edition doctor then shows
		inYAML     []string
	}{
		{"Docker Hub", "docker.io", false, "", kindDockerHub, []string{"not ACR: login from a KMS secret"}, []string{"domains: [docker.io]", "secret: dockerhub-pull"}},
		{"Docker Hub by another name", "registry-1.docker.io", false, "", kindDockerHub, []string{"not ACR: login from a KMS secret"}, []string{"domains: [docker.io]"}},
		{"an image name without a registry: Docker Hub", "nginx", false, "", kindDockerHub, []string{"not ACR: login from a KMS secret"}, []string{"domains: [docker.io]"}},
		{"GHCR", "ghcr.io", false, "", kindGHCR, []string{"not ACR: login from a KMS secret"}, []string{"domains: [ghcr.io]", "secret: ghcr-pull"}},
		{"a custom domain or another registry: both", "registry.example.org", false, "", kindUnknown,
			[]string{"enterprise (custom domain)", "not ACR: login from a KMS secret"}, []string{"instanceId: cri-", "secret: registry-example-org-pull"}},
		{"online: ACR's challenge names the instance", "registry.example.org", true, acrChallenge + teamID + `"`, kindCustomDomain,
			[]string{"enterprise (custom domain)"}, []string{"domains: [registry.example.org]", "instanceId: " + teamID, "regionId: cn-beijing"}},
		{"online: another registry", "quay.io", true, `Bearer realm="https://quay.io/v2/auth",service="quay.io"`, kindOther,
			[]string{"not ACR: login from a KMS secret"}, []string{"domains: [quay.io]", "secret: quay-io-pull"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.useAK(t, devAK, devSK)
			w.env["XDG_CONFIG_HOME"] = filepath.Join(w.env["HOME"], "xdg-config")
			if tt.challenge != "" {
				w.setChallenge(rawChallenge(tt.challenge))
			}
			args := []string{tt.host}
			if tt.online {
				args = []string{"--online", tt.host}
			}
			k := w.keychain(t)
			k.Config.Path = "" // no config file yet: doctor names the one it would read
			r, code, text := doctorJSON(t, k, args...)
			if code != 1 || r.Advice == nil {
				t.Fatalf("exit %d, advice %+v:\n%s", code, r.Advice, text)
			}
			a := r.Advice
			if a.Kind != tt.kind || len(a.YAML) != len(tt.served) {
				t.Fatalf("advice kind %s with %d entries, want %s with %d:\n%s", a.Kind, len(a.YAML), tt.kind, len(tt.served), text)
			}
			wantFile := filepath.Join(w.env["HOME"], "xdg-config", "docker-credential-acr", "config.yaml")
			if a.File != wantFile || a.FileExists || !strings.Contains(text, "config file:       none: "+wantFile+" does not exist") {
				t.Errorf("config file %q (exists %v), want %q:\n%s", a.File, a.FileExists, wantFile, text)
			}
			joined := strings.Join(a.YAML, "\n")
			for _, want := range tt.inYAML {
				if !strings.Contains(joined, want) || !strings.Contains(text, want) {
					t.Errorf("the proposal lacks %q:\n%s", want, text)
				}
			}
			for i, y := range a.YAML {
				path := filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := config.LoadFile(path, w.getenv())
				if err != nil {
					t.Fatalf("proposal %d does not load: %v\n%s", i+1, err, y)
				}
				k := w.keychain(t, cfg.Registries...)
				r, _, text := doctorJSON(t, k, tt.host)
				if r.Advice != nil || r.Edition != tt.served[i] || r.Entry == "" {
					t.Errorf("with proposal %d the host is %q (entry %q), want %q:\n%s", i+1, r.Edition, r.Entry, tt.served[i], text)
				}
			}
		})
	}
}

// TestDoctorNamesTheConfigFile: the file read, else the one the helper would read (and that it
// does not exist yet), on every report.
func TestDoctorNamesTheConfigFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	w.env["XDG_CONFIG_HOME"] = filepath.Join(w.env["HOME"], "xdg-config")
	k := w.keychain(t)
	_, _, text := doctorJSON(t, k, "registry.cn-hangzhou.aliyuncs.com")
	if !strings.Contains(text, "  config file:       /test/config.yaml\n") || !strings.Contains(text, "  config entry:      none needed") {
		t.Errorf("with a config file:\n%s", text)
	}
	k.Config.Path = ""
	_, _, text = doctorJSON(t, k, "registry.cn-hangzhou.aliyuncs.com")
	if !strings.Contains(text, "  config file:       none: "+filepath.Join(w.env["HOME"], "xdg-config", "docker-credential-acr", "config.yaml")+" does not exist (create it to add entries; DOCKER_CREDENTIAL_ACR_CONFIG names another file)\n") {
		t.Errorf("without one:\n%s", text)
	}
}

// TestDoctorTellsUnreachableFromNotACR: --online with no answer from the registry says it could
// not be reached and what that means for discovery, never "not an ACR challenge"; an Enterprise
// default domain is still served (by its name), and an unlisted host gets both proposals.
func TestDoctorTellsUnreachableFromNotACR(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	w.chal.Close() // nothing listens there any more: connection refused
	k := w.keychain(t)
	for _, tt := range []struct {
		host string
		code int
		kind string
	}{
		{"team-registry.cn-beijing.cr.aliyuncs.com", 0, ""},
		{"registry.example.org", 1, kindUnknown},
	} {
		r, code, text := doctorJSON(t, k, "--online", tt.host)
		if code != tt.code || r.Challenge == nil {
			t.Fatalf("%s: exit %d, challenge %+v:\n%s", tt.host, code, r.Challenge, text)
		}
		c := r.Challenge.Concluded
		if !strings.HasPrefix(c, "nothing: the registry could not be reached (GET ") || strings.Contains(c, "not an ACR challenge") ||
			!strings.Contains(c, "a custom domain is served only when its config entry names instanceId and regionId") {
			t.Errorf("%s: challenge says %q", tt.host, c)
		}
		if (r.Advice == nil) != (tt.kind == "") || r.Advice != nil && r.Advice.Kind != tt.kind {
			t.Errorf("%s: advice %+v, want kind %q", tt.host, r.Advice, tt.kind)
		}
	}
}

// TestDoctorNoCredentialsOneRule: offline, no credentials is a note (exit 0) for an ACR host and
// for a KMS entry alike; online, a problem (exit 1) for both. The KMS "read by" line names who
// reads the secret once.
func TestDoctorNoCredentialsOneRule(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hub, err := secrets.ParseRef("acs:kms:cn-shanghai:"+acctB+":secret/dockerhub-pull", "")
	if err != nil {
		t.Fatal(err)
	}
	kms := config.Registry{Domains: []string{"docker.io"}, RegionID: "cn-shanghai", ArnUser: roleUser,
		Secret: &config.Secret{Ref: hub, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}}
	for _, host := range []string{"registry.cn-hangzhou.aliyuncs.com", "docker.io"} {
		for _, online := range []bool{false, true} {
			k := w.keychain(t, kms)
			args := []string{host}
			if online {
				args = []string{"--online", host}
			}
			r, code, text := doctorJSON(t, k, args...)
			want := 0
			if online {
				want = 1
			}
			if code != want || online != (len(r.Problems) == 1) || online == (len(r.Notices) == 1) {
				t.Errorf("%q: exit %d (want %d), problems %q, notices %q", args, code, want, r.Problems, r.Notices)
			}
			if host == "docker.io" {
				if r.Secret == nil || r.Secret.Identity != "no credentials on this machine yet → "+roleUser || strings.Count(text, "read by") != 1 {
					t.Errorf("read by %+v:\n%s", r.Secret, text)
				}
			}
		}
	}
}
