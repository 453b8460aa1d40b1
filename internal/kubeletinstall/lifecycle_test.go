package kubeletinstall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func k3sNode(t *testing.T, extra tree) *node {
	tr := tree{"/etc/rancher/k3s/config.yaml": "\n"}
	for k, v := range extra {
		tr[k] = v
	}
	return newNode(t, tr)
}

// TestOwnEntryReplaced: installing with other options replaces the entry in place.
func TestOwnEntryReplaced(t *testing.T) {
	n := k3sNode(t, tree{rancherConfigFile: twoProvidersConfig})
	n.mustRun()
	n.takeRestarts()
	n.mustRun("--match-image", "registry.example.com")
	cfg := n.read(rancherConfigFile)
	if got := strings.Join(providerNames(t, cfg), " "); got != "ecr-credential-provider gcp-credential-provider acr-credential-provider" {
		t.Errorf("providers %s:\n%s", got, cfg)
	}
	if !strings.Contains(cfg, `"registry.example.com"`) {
		t.Errorf("the new option is not in the entry:\n%s", cfg)
	}
	if got := n.takeRestarts(); got != "k3s" {
		t.Errorf("a changed entry restarted %q, want k3s (the kubelet reads the config when it starts)", got)
	}
	// The entry moved by someone stays where they put it.
	moved := strings.Replace(cfg, "- name: ecr-credential-provider", "- name: zzz-moved", 1)
	if err := os.WriteFile(filepath.Join(n.root, rancherConfigFile), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	n.mustRun()
	if got := strings.Join(providerNames(t, n.read(rancherConfigFile)), " "); got != "zzz-moved gcp-credential-provider acr-credential-provider" {
		t.Errorf("providers %s", got)
	}
}

// TestUninstallAfterOthersChanged: files changed by someone else since keep their changes;
// only the installer's entry and flags are taken out.
func TestUninstallAfterOthersChanged(t *testing.T) {
	n := newNode(t, tree{kubeadmFlagsEnv: "KUBELET_KUBEADM_ARGS=\n", kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=--v=2\n"})
	n.mustRun()
	n.takeRestarts()
	cfgPath := filepath.Join(n.root, kubeadmConfigFile)
	cfg := n.read(kubeadmConfigFile) + "  - name: ecr-credential-provider\n    matchImages: [\"*.dkr.ecr.*.amazonaws.com\"]\n    defaultCacheDuration: 12h\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := n.read(kubeadmDefaultFlags) + "# the operator's\nOTHER=1\n"
	if err := os.WriteFile(filepath.Join(n.root, kubeadmDefaultFlags), []byte(flags), 0o644); err != nil {
		t.Fatal(err)
	}
	// The plugin replaced by a package's.
	bin := filepath.Join(n.root, kubeadmBinDir, "acr-credential-provider")
	if err := os.WriteFile(bin, []byte("the package's\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := n.mustRun("--uninstall")
	if got := strings.Join(providerNames(t, n.read(kubeadmConfigFile)), " "); got != "ecr-credential-provider" {
		t.Errorf("providers after --uninstall: %s", got)
	}
	if got := n.read(kubeadmDefaultFlags); got != "KUBELET_EXTRA_ARGS=\"--v=2\"\n# the operator's\nOTHER=1\n" {
		t.Errorf("flags after --uninstall:\n%s", got)
	}
	if got := n.read(kubeadmBinDir + "/acr-credential-provider"); got != "the package's\n" {
		t.Errorf("the package's binary: %q", got)
	}
	for _, s := range []string{"taking out only the acr-credential-provider entry", "taking out only the flags it added", "changed since the install (by someone else): left as it is"} {
		if !strings.Contains(out, s) {
			t.Errorf("the output lacks %q:\n%s", s, out)
		}
	}
	if got := n.takeRestarts(); got != "kubelet" {
		t.Errorf("restarted %q", got)
	}
	if _, err := os.Stat(filepath.Join(n.root, stateFile)); !os.IsNotExist(err) {
		t.Errorf("the record stays: %v", err)
	}
}

// TestBinaryVersions: a binary in the plugin directory from someone else is replaced only by a
// newer version; the installer's own is replaced; the replaced one comes back on --uninstall.
func TestBinaryVersions(t *testing.T) {
	script := func(version string) string {
		return "#!/bin/sh\necho 'docker-credential-acr (Alibaba Cloud Container Registry) " + version + " commit abc go1.26.8'\n"
	}
	for _, tc := range []struct {
		name, theirs, ours string
		args               []string
		replaced           bool
		say                string
	}{
		{"newer from a package", script("v1.10.0"), "v1.9.9", nil, false, "version 1.10.0, put there by someone else, is not older than this 1.9.9"},
		{"same version from a package", script("v1.2.3"), "v1.2.3", nil, false, "is not older"},
		{"release over pre-release", script("v1.2.3-rc.1"), "v1.2.3", nil, true, "replacing version 1.2.3-rc.1 with 1.2.3"},
		{"older", script("v0.9.0"), "v1.2.3", nil, true, "replacing version 0.9.0 with 1.2.3"},
		{"not ours", "#!/bin/sh\necho other tool 9.9\n", "v1.2.3", nil, false, "cannot be compared"},
		{"this one a development build", script("v1.0.0"), "(devel)", nil, false, "cannot be compared"},
		{"not ours, --replace-binary", "#!/bin/sh\nexit 3\n", "v1.2.3", []string{"--replace-binary"}, true, "--replace-binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := k3sNode(t, tree{rancherBinDir + "/acr-credential-provider": tc.theirs})
			if err := os.Chmod(filepath.Join(n.root, rancherBinDir, "acr-credential-provider"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := n.snapshot()
			n.self.Version = tc.ours
			out := n.mustRun(tc.args...)
			got := n.read(rancherBinDir + "/acr-credential-provider")
			if (got == selfBinary) != tc.replaced {
				t.Errorf("replaced: %v, want %v\n%s", got == selfBinary, tc.replaced, out)
			}
			if !strings.Contains(out, tc.say) {
				t.Errorf("the output lacks %q:\n%s", tc.say, out)
			}
			n.mustRun("--uninstall")
			sameTree(t, "after --uninstall", before, n.snapshot())
		})
	}
	// The installer's own binary, from an earlier install of another version, is replaced.
	n := k3sNode(t, nil)
	n.mustRun()
	n.self.Version = "v0.0.1"
	if err := os.WriteFile(n.self.Path, []byte("older build\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.mustRun()
	if got := n.read(rancherBinDir + "/acr-credential-provider"); got != "older build\n" {
		t.Errorf("the installer's own binary was not replaced: %q", got)
	}
}

// TestDryRun prints the diff and changes nothing, for install and uninstall.
func TestDryRun(t *testing.T) {
	n := newNode(t, tree{kubeadmFlagsEnv: "KUBELET_KUBEADM_ARGS=\n", kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=--v=2\n"})
	before := n.snapshot()
	out := n.mustRun("--dry-run")
	sameTree(t, "after --dry-run", before, n.snapshot())
	for _, s := range []string{
		"new binary /var/lib/kubelet/credential-provider/bin/acr-credential-provider",
		"--- /dev/null\n+++ b/etc/kubernetes/image-credential-provider-config.yaml\n",
		"+  - name: \"acr-credential-provider\"\n",
		"--- a/etc/default/kubelet\n+++ b/etc/default/kubelet\n@@ -1,1 +1,1 @@\n-KUBELET_EXTRA_ARGS=--v=2\n+KUBELET_EXTRA_ARGS=\"--v=2 --image-credential-provider-config=",
		"would restart kubelet: the kubelet's flags changed",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("the dry run lacks %q:\n%s", s, out)
		}
	}
	if got := n.takeRestarts(); got != "" {
		t.Errorf("a dry run restarted %q", got)
	}
	n.mustRun()
	installed := n.snapshot()
	out = n.mustRun("--uninstall", "--dry-run")
	sameTree(t, "after --uninstall --dry-run", installed, n.snapshot())
	if !strings.Contains(out, "-KUBELET_EXTRA_ARGS=\"--v=2 --image") || !strings.Contains(out, "+++ /dev/null") {
		t.Errorf("the uninstall dry run:\n%s", out)
	}
}

// TestHelperConfig: the helper's config goes on the node 0600, named in the provider's env; a
// broken one is refused.
func TestHelperConfig(t *testing.T) {
	n := k3sNode(t, nil)
	good := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(good, []byte("registries:\n  - instanceId: cri-abc\n    regionId: cn-hangzhou\n    domains: [registry.example.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := n.mustRun("--helper-config", good)
	fi, err := os.Stat(filepath.Join(n.root, HelperConfigPath))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", HelperConfigPath, err, fi)
	}
	cfg := n.read(rancherConfigFile)
	if !strings.Contains(cfg, "- name: DOCKER_CREDENTIAL_ACR_CONFIG\n        value: \"/etc/docker-credential-acr/config.yaml\"") {
		t.Errorf("the provider's env lacks the config:\n%s", cfg)
	}
	if strings.Contains(out, "cri-abc") {
		t.Errorf("the helper config's content is in the output:\n%s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("registries: {\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := n.run("--helper-config", bad); code != 1 || !strings.Contains(errOut, "--helper-config") {
		t.Errorf("a broken helper config: exit %d %s", code, errOut)
	}
}

// TestCheck: --check fails with the diff until the node is configured as asked, then succeeds;
// it changes nothing.
func TestCheck(t *testing.T) {
	n := k3sNode(t, nil)
	before := n.snapshot()
	code, out, errOut := n.run("--check")
	if code != 1 || !strings.Contains(errOut, "not configured (2 files to change)") || !strings.Contains(errOut, "+++ b/var/lib/rancher/credentialprovider/config.yaml") {
		t.Errorf("--check before the install: exit %d\n%s\n%s", code, out, errOut)
	}
	sameTree(t, "after --check", before, n.snapshot())
	n.mustRun()
	n.takeRestarts()
	if out := n.mustRun("--check"); !strings.Contains(out, "the node is configured: k3s") {
		t.Errorf("--check after the install: %s", out)
	}
	// Other options: not configured as asked.
	if code, _, errOut := n.run("--check", "--match-image", "registry.example.com"); code != 1 || !strings.Contains(errOut, `+      - "registry.example.com"`) {
		t.Errorf("--check with another option: exit %d\n%s", code, errOut)
	}
	if got := n.takeRestarts(); got != "" {
		t.Errorf("--check restarted %q", got)
	}
}
