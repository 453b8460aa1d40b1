package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scrubbed says whether a variable of the test process must not reach the code under test: the
// Alibaba Cloud credential chain (credentials-go and the older ALICLOUD_ names), the helper's own
// settings, docker's config location, proxies in either case, the SDKs' DEBUG switch and the XDG
// directories.
func scrubbed(k string) bool {
	for _, p := range []string{"ALIBABA_CLOUD_", "ALICLOUD_", "DOCKER_CREDENTIAL_ACR_", "XDG_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	switch strings.ToUpper(k) {
	case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "DEBUG", "DOCKER_CONFIG", "SSL_CERT_FILE", "SSL_CERT_DIR":
		return true
	}
	return false
}

// Dirs are the per-test directories that stand in for the user's: HOME and the XDG base
// directories under it.
type Dirs struct {
	Home, Cache, Data, Config, ConfigDirs, State string
}

func newDirs(home string) Dirs {
	return Dirs{
		Home:       home,
		Cache:      filepath.Join(home, "cache"),
		Data:       filepath.Join(home, "data"),
		Config:     filepath.Join(home, "config"),
		ConfigDirs: filepath.Join(home, "etc-xdg"),
		State:      filepath.Join(home, "state"),
	}
}

func (d Dirs) vars() map[string]string {
	return map[string]string{
		"HOME":            d.Home,
		"XDG_CACHE_HOME":  d.Cache,
		"XDG_DATA_HOME":   d.Data,
		"XDG_CONFIG_HOME": d.Config,
		"XDG_CONFIG_DIRS": d.ConfigDirs,
		"XDG_STATE_HOME":  d.State,
		// Never ask the real metadata service at 100.100.100.200; tests of the ECS source clear
		// this and point HTTP_PROXY at the fake's metadata proxy.
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	}
}

// ScrubEnv clears, for the rest of the test, every variable of the test process that could
// carry the machine's credentials, settings, proxies or directories into the code under test,
// points HOME and the XDG directories at a fresh temporary directory and disables the ECS
// metadata service. It returns those directories. (t.Setenv: not for parallel tests.)
func ScrubEnv(t testing.TB) Dirs {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if scrubbed(k) {
			t.Setenv(k, "") // restored when the test ends
			os.Unsetenv(k)
		}
	}
	d := newDirs(t.TempDir())
	for k, v := range d.vars() {
		t.Setenv(k, v)
	}
	return d
}

// ChildEnv is the whole environment for a child process (the built helper, the fake's command):
// PATH from the test process, and the same scrubbed directories and switches as ScrubEnv, under
// home. Nothing else of the test process gets through.
func ChildEnv(home string) (map[string]string, Dirs) {
	d := newDirs(home)
	env := d.vars()
	env["PATH"] = os.Getenv("PATH")
	return env, d
}

// Environ turns an environment map into os/exec's form, leaving out empty values.
func Environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}
