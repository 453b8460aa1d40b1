package kubeletinstall

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDaemonSetStepInChroot runs the DaemonSet's installer step as the chart runs it, in a
// container-like root: the static binary alone at /, the node's filesystem mounted at /host, a
// private mount namespace with its own /proc. Root only (CI runs as root).
func TestDaemonSetStepInChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for chroot and a mount namespace (CI runs as root)")
	}
	for _, tool := range []string{"unshare", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	container := t.TempDir()
	bin := filepath.Join(container, "docker-credential-acr")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=v1.2.3", "-o", bin, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// /proc and /dev/null, as a container runtime gives them.
	if err := os.Mkdir(filepath.Join(container, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(container, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(container, "dev", "null"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(container, "host")
	tree{
		"/etc/rancher/rke2/config.yaml":            "token: x\n",
		"/etc/systemd/system/rke2-server.service":  "[Service]\n",
		rancherConfigFile:                          ecrConfig,
		rancherBinDir + "/ecr-credential-provider": "ecr\n",
	}.write(t, host)
	before := snapshot(t, host)

	// The chart's init container: install-kubelet-plugin --root /host; the restart command
	// here is the binary itself (there is no shell nor systemctl in the image): it records the
	// unit it was given in its output.
	step := func(args ...string) string {
		t.Helper()
		inner := "mount -t proc proc " + container + "/proc && mount --bind /dev/null " + container + "/dev/null && exec chroot " + container + " /docker-credential-acr install-kubelet-plugin --root /host --restart-command '/docker-credential-acr version' " + strings.Join(args, " ")
		cmd := exec.Command("unshare", "--mount", "--fork", "--pid", "sh", "-c", inner)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the installer step %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := step()
	for _, s := range []string{"profile rke2 (auto: found /etc/rancher/rke2)", "updated /var/lib/rancher/credentialprovider/config.yaml",
		"restarted rke2-server", "/docker-credential-acr version rke2-server"} {
		if !strings.Contains(out, s) {
			t.Errorf("the output lacks %q:\n%s", s, out)
		}
	}
	installed, err := os.ReadFile(filepath.Join(host, rancherBinDir, "acr-credential-provider"))
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile(bin)
	if string(installed) != string(self) {
		t.Error("the plugin in the node's directory is not the container's binary")
	}
	// The plugin runs from the node's directory under its plugin name: it speaks the kubelet's
	// protocol (an image that is not ACR's gets an empty answer, without any lookup).
	plugin := exec.Command(filepath.Join(host, rancherBinDir, "acr-credential-provider"))
	plugin.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	plugin.Stdin = strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"docker.io/library/busybox"}`)
	v, err := plugin.Output()
	if err != nil || !strings.Contains(string(v), `"kind":"CredentialProviderResponse"`) {
		t.Errorf("the installed plugin: %v\n%s", err, v)
	}
	if got := strings.Join(providerNames(t, readTree(t, host, rancherConfigFile)), " "); got != "ecr-credential-provider acr-credential-provider" {
		t.Errorf("providers: %s", got)
	}
	// The pod restarted: the step runs again and changes nothing.
	if out := step(); !strings.Contains(out, "nothing to change") || strings.Contains(out, "restarted") {
		t.Errorf("the second run:\n%s", out)
	}
	// The chart's removal: --uninstall gives the node back byte for byte.
	step("--uninstall")
	sameTree(t, "after --uninstall in the chroot", before, snapshot(t, host))
}
