package lightness

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The ceilings are today's figures, so that any growth fails here and is a decision; the goal
// is what mozillazg's pkg/credhelper v0.4.0 links (33 packages, 49 modules: issue 19). What is
// left between them is the Alibaba Cloud SDK under cr, sts and internal/cloudapi (README
// "Embedding"). 50 since the hardening of issue 20 added two small packages of this module,
// internal/trustedpath (who may have written a file that names a command) and internal/terminal
// (what may reach a terminal), both standard library only.
const (
	maxPackages  = 50
	maxModules   = 79
	goalPackages = 33
	goalModules  = 49
)

func goList(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	// Offline: the module cache that built the helper has every module; never fetch.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Skipf("no go tool: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestKeychainLinksLittle(t *testing.T) {
	pkgs := goList(t, "testdata/prog", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	mods := goList(t, "testdata/prog", "-m", "all")
	t.Logf("a program importing only keychain: %d non-standard packages (goal %d), %d modules (goal %d)", len(pkgs), goalPackages, len(mods), goalModules)
	if len(pkgs) > maxPackages {
		t.Errorf("%d non-standard packages, more than the %d of before:\n%s", len(pkgs), maxPackages, strings.Join(pkgs, "\n"))
	}
	if len(mods) > maxModules {
		t.Errorf("%d modules, more than the %d of before:\n%s", len(mods), maxModules, strings.Join(mods, "\n"))
	}
	// KMS is linked only by programs that ask for it (keychain.Options.KMS; secrets/kms).
	for _, p := range pkgs {
		if strings.Contains(p, "kms-20160120") || strings.HasSuffix(p, "/secrets/kms") {
			t.Errorf("the keychain links %s: KMS support must stay out of programs that do not ask for it", p)
		}
	}
}

// The settings reader imports no cloud SDK.
func TestConfigLinksNoSDK(t *testing.T) {
	pkgs := goList(t, ".", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/docker-credential-acr/docker-credential-acr/config")
	if len(pkgs) < 2 {
		t.Fatalf("go list found %v", pkgs)
	}
	for _, p := range pkgs {
		if strings.Contains(p, "alibabacloud-go") || strings.Contains(p, "aliyun/") {
			t.Errorf("config links %s", p)
		}
	}
}
