package credhelper

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
)

// TestInstallKubeletPluginDomains: the custom domains in matchImages are those of the config the
// plugin will read: --helper-config's when given, else the helper's own.
func TestInstallKubeletPluginDomains(t *testing.T) {
	testkit.ScrubEnv(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	own := write("own.yaml", "registries:\n  - instanceId: cri-own\n    regionId: cn-hangzhou\n    domains: [own.example.com]\n")
	helper := write("helper.yaml", "registries:\n  - instanceId: cri-node\n    regionId: cn-hangzhou\n    domains: [node.example.com]\n")
	env := map[string]string{"DOCKER_CREDENTIAL_ACR_CONFIG": own}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args       []string
		want, lack string
	}{
		{nil, "own.example.com", "node.example.com"},
		{[]string{"--helper-config", helper}, "node.example.com", "own.example.com"},
		{[]string{"--helper-config=" + helper}, "node.example.com", "own.example.com"},
	} {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc/rancher/k3s"), 0o755); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		argv := append([]string{"docker-credential-acr", "install-kubelet-plugin", "--root", root, "--no-restart", "--dry-run"}, tc.args...)
		if code := Main(argv, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}, getenv, Build{}); code != 0 {
			t.Fatalf("%q: exit %d\n%s%s", tc.args, code, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), `+      - "`+tc.want+`"`) || strings.Contains(out.String(), tc.lack) {
			t.Errorf("%q: want %s and not %s in matchImages:\n%s", tc.args, tc.want, tc.lack, out.String())
		}
	}
}
