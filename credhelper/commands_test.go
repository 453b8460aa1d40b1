package credhelper

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// The protocol rules of the command table: which stream carries errors, which commands work
// without a readable config, and the exit codes.
func TestCommandTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("registries:\n  - arnUsr: acs:ram::2:role/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("strict: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const brokenMsg = "registries[0].arnUsr: unknown key"
	tests := []struct {
		name       string
		argv       []string
		config     string
		stdin      string
		code       int
		wantStdout string // substring; "-" = must be empty
		wantStderr string // substring; "-" = must be empty
		env        map[string]string
	}{
		{name: "no arguments", argv: []string{"docker-credential-acr"}, code: 1, wantStdout: "-", wantStderr: "Usage: docker-credential-acr"},
		{name: "version", argv: []string{"x", "version"}, config: broken, code: 0, wantStdout: "docker-credential-acr (Alibaba Cloud Container Registry) v1.2.3 commit abc", wantStderr: "-"},
		{name: "--version", argv: []string{"x", "--version"}, code: 0, wantStdout: "v1.2.3", wantStderr: "-"},
		{name: "help", argv: []string{"x", "help"}, config: broken, code: 0, wantStdout: "Usage: docker-credential-acr", wantStderr: "-"},
		{name: "print-kubelet-config with a broken config", argv: []string{"x", "print-kubelet-config"}, config: broken, code: 0, wantStdout: "CredentialProviderConfig", wantStderr: "its domains are not in matchImages"},
		{name: "print-kubelet-config bad usage", argv: []string{"x", "print-kubelet-config", "--nope"}, code: 2, wantStdout: "-", wantStderr: "nope"},
		{name: "get with a broken config: error on stdout", argv: []string{"x", "get"}, config: broken, stdin: "registry.cn-hangzhou.aliyuncs.com", code: 1, wantStdout: brokenMsg, wantStderr: brokenMsg},
		{name: "list with a broken config", argv: []string{"x", "list"}, config: broken, code: 1, wantStdout: brokenMsg, wantStderr: brokenMsg},
		{name: "doctor with a broken config: stderr only", argv: []string{"x", "doctor", "registry.cn-hangzhou.aliyuncs.com"}, config: broken, code: 1, wantStdout: "-", wantStderr: brokenMsg},
		{name: "kubelet with a broken config: stderr only", argv: []string{"x", "kubelet"}, config: broken, code: 1, wantStdout: "-", wantStderr: brokenMsg},
		{name: "provider name speaks kubelet whatever the args", argv: []string{"/plugins/acr-credential-provider", "get"}, config: broken, code: 1, wantStdout: "-", wantStderr: brokenMsg},
		{name: "get with extra arguments", argv: []string{"x", "get", "more"}, config: good, code: 1, wantStdout: "-", wantStderr: "Usage:"},
		{name: "unknown command: the protocol's answer on stdout, the way on on stderr", argv: []string{"x", "frobnicate"}, config: good, code: 1, wantStdout: `unknown command "frobnicate"`, wantStderr: `Run "docker-credential-acr help" for the commands`},
		{name: "a typo: the nearest command", argv: []string{"x", "docotr", "registry.cn-hangzhou.aliyuncs.com"}, config: broken, code: 1, wantStdout: `unknown command "docotr"`, wantStderr: `Did you mean "doctor"?`},
		{name: "help of a typo", argv: []string{"x", "help", "print-kubelet"}, config: good, code: 1, wantStdout: `unknown command "print-kubelet"`, wantStderr: `Did you mean "print-kubelet-config"?`},
		{name: "doctor: a flag after the host", argv: []string{"x", "doctor", "registry.cn-hangzhou.aliyuncs.com", "--json"}, config: good, code: 0,
			env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, wantStdout: `"host": "registry.cn-hangzhou.aliyuncs.com"`, wantStderr: "-"},
		{name: "help CMD is CMD --help", argv: []string{"x", "help", "doctor"}, config: broken, code: 0, wantStdout: "Usage: docker-credential-acr doctor", wantStderr: "-"},
		{name: "list with nothing stored", argv: []string{"x", "list"}, config: good, code: 0, wantStdout: "{}", wantStderr: "-"},
		{name: "doctor offline: the report on stdout", argv: []string{"x", "doctor", "registry.cn-hangzhou.aliyuncs.com"}, config: good, code: 0,
			env:        map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tCommandTable01", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s", "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"},
			wantStdout: "environment AccessKey\n  ECS RAM role:      skipped: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true", wantStderr: "-"},
		{name: "doctor finds no credentials: a note, exit 0", argv: []string{"x", "doctor", "registry.cn-hangzhou.aliyuncs.com"}, config: good, code: 0,
			env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, wantStdout: "NOTE: no Alibaba Cloud credentials", wantStderr: "-"},
		{name: "doctor --online finds no credentials: exit 1", argv: []string{"x", "doctor", "--online", "registry.cn-hangzhou.aliyuncs.com"}, config: good, code: 1,
			env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, wantStdout: "PROBLEM: no Alibaba Cloud credentials", wantStderr: "-"},
		{name: "bad log level is a warning", argv: []string{"x", "list"}, config: good, code: 0, wantStdout: "{}", wantStderr: "DOCKER_CREDENTIAL_ACR_LOG_LEVEL=\"loud\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			env := map[string]string{
				"HOME": home, "XDG_CONFIG_HOME": home, "XDG_CONFIG_DIRS": home,
				config.EnvCacheDir: filepath.Join(home, "cache"), config.EnvDataDir: filepath.Join(home, "data"),
				config.EnvConfig: tt.config,
			}
			for k, v := range tt.env {
				env[k] = v
			}
			if strings.HasPrefix(tt.name, "bad log level") {
				env[config.EnvLogLevel] = "loud"
			}
			var stdout, stderr bytes.Buffer
			code := Main(tt.argv, Streams{Stdin: strings.NewReader(tt.stdin), Stdout: &stdout, Stderr: &stderr},
				func(k string) string { return env[k] }, Build{Version: "v1.2.3", Commit: "abc"})
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			for _, s := range []struct{ name, got, want string }{{"stdout", stdout.String(), tt.wantStdout}, {"stderr", stderr.String(), tt.wantStderr}} {
				if s.want == "-" && s.got != "" || s.want != "-" && !strings.Contains(s.got, s.want) {
					t.Errorf("%s = %q, want %q", s.name, s.got, s.want)
				}
			}
		})
	}
}

// Every command answers --help, -h and `help CMD` with its own usage on stdout and exit 0, even
// with a broken config and no credentials: the usage names the command, and every flag the
// command accepts (as its flag errors list them) is in it.
func TestEveryCommandHasItsOwnHelp(t *testing.T) {
	t.Parallel()
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte("registries:\n  - arnUsr: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{config.EnvConfig: broken, "HOME": t.TempDir()}
	run := func(argv ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Main(argv, Streams{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}, func(k string) string { return env[k] }, Build{})
		return code, stdout.String(), stderr.String()
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
	var names []string
	for _, c := range append(commands, dockerProtocol) {
		for _, n := range c.names {
			if !strings.HasPrefix(n, "-") {
				names = append(names, n)
			}
		}
	}
	if len(names) < 11 {
		t.Fatalf("only %d commands: %v", len(names), names)
	}
	for _, name := range names {
		forms := [][]string{{"x", name, "--help"}, {"x", name, "-h"}, {"x", "help", name}}
		if name == "kubelet" {
			forms = append(forms, []string{"/usr/libexec/acr-credential-provider", "--help"})
		}
		for _, argv := range forms {
			code, stdout, stderr := run(argv...)
			want := "Usage: docker-credential-acr " + name
			if name == "store" || name == "erase" || name == "list" {
				want = "Usage: docker-credential-acr get|store|erase|list"
			}
			if code != 0 || !strings.HasPrefix(stdout, want) || stderr != "" {
				t.Errorf("%q: exit %d, stdout %.80q, stderr %.200q; want 0 and %q on stdout", argv, code, stdout, stderr, want)
			}
			// The flags the command knows are those its flag error lists; each is in its usage.
			_, _, flagErr := run("x", name, "--no-such-flag-x", "h")
			for _, m := range flagLine.FindAllStringSubmatch(flagErr, -1) {
				if !strings.Contains(stdout, "-"+m[1]) {
					t.Errorf("%q: the usage lacks the flag --%s", argv, m[1])
				}
			}
		}
	}
}

func TestNearestCommand(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"docotr": "doctor", "doctr": "doctor", "Doctor": "doctor", "--doctor": "doctor", "versoin": "version",
		"configure": "configure-docker", "configure-dokcer": "configure-docker", "print-kubelet": "print-kubelet-config",
		"get-login": "get-login-password", "gte": "get", "lsit": "list", "ersae": "erase",
		"frobnicate": "", "login": "", "x": "", "": "", strings.Repeat("doctor", 40): "",
	} {
		if got := nearestCommand(in); got != want {
			t.Errorf("nearestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFlagsFirst(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want []string }{
		{[]string{"h1", "--online", "h2", "--json"}, []string{"--online", "--json", "--", "h1", "h2"}},
		{[]string{"--online", "h1"}, []string{"--online", "--", "h1"}},
		{[]string{"h1", "--", "--json"}, []string{"--", "h1", "--json"}},
		{[]string{"-", "h"}, []string{"--", "-", "h"}},
		{nil, []string{"--"}},
	} {
		if got := flagsFirst(tt.in); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("flagsFirst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
