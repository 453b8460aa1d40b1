package kubeletinstall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRefusals: the installer changes nothing and says why when it cannot act.
func TestRefusals(t *testing.T) {
	kubeadmPointingAt := func(path, content string) tree {
		return tree{
			kubeadmFlagsEnv: `KUBELET_KUBEADM_ARGS="--image-credential-provider-config=` + path + ` --image-credential-provider-bin-dir=/opt/bin"` + "\n",
			path:            content,
		}
	}
	for _, tc := range []struct {
		name string
		tree tree
		args []string
		want string // in stderr
		code int
	}{
		{"JSON provider config", kubeadmPointingAt("/etc/kubernetes/cp.json", `{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[]}`),
			nil, "it is JSON", 1},
		{"another apiVersion", kubeadmPointingAt("/etc/kubernetes/cp.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: CredentialProviderConfig\nproviders: []\n"),
			nil, `its apiVersion is "kubelet.config.k8s.io/v1beta1"`, 1},
		{"not a provider config", kubeadmPointingAt("/etc/kubernetes/cp.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"),
			nil, `kind is "KubeletConfiguration"`, 1},
		{"two documents", kubeadmPointingAt("/etc/kubernetes/cp.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n---\nkind: x\n"),
			nil, "more than one YAML document", 1},
		{"broken YAML", kubeadmPointingAt("/etc/kubernetes/cp.yaml", "apiVersion: [\n"), nil, "cannot merge", 1},
		{"a directory", tree{kubeadmFlagsEnv: `KUBELET_KUBEADM_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.d"` + "\n", "/etc/kubernetes/cp.d/": ""},
			nil, "names a directory", 1},
		{"auto on an unknown node", tree{"/etc/hostname": "n1\n"}, nil, "--profile auto: no k3s", 1},
		{"auto on a node with k3s and RKE2", tree{"/etc/rancher/k3s/": "", "/etc/rancher/rke2/": ""}, nil, "looks like k3s and rke2", 1},
		{"generic without paths", tree{}, []string{"--profile", "generic"}, "needs --config-file", 1},
		{"unknown profile", tree{}, []string{"--profile", "kind"}, `--profile "kind"`, 1},
		{"relative root", tree{}, []string{"--root", "node"}, "want an absolute path", 1},
		{"bad option of print-kubelet-config", tree{kubeadmFlagsEnv: "\n"}, []string{"--match-image", "https://x"}, "--match-image", 1},
		{"per-workload identity without the OIDC provider", tree{kubeadmFlagsEnv: "\n"}, []string{"--service-account-tokens"}, "--oidc-provider-arn", 1},
		{"unexpected argument", tree{}, []string{"now"}, "unexpected argument", 2},
		{"k3s config that is not YAML", tree{"/etc/rancher/k3s/config.yaml": "kubelet-arg: [\n"}, nil, "/etc/rancher/k3s/config.yaml", 1},
		{"symlinked flags file", tree{kubeadmFlagsEnv: "\n", "/etc/kubelet-flags": "KUBELET_EXTRA_ARGS=\n"}, []string{"--profile", "kubeadm"}, "symbolic link", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, tc.tree)
			if tc.name == "symlinked flags file" {
				if err := os.MkdirAll(filepath.Join(n.root, "/etc/default"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("../kubelet-flags", filepath.Join(n.root, kubeadmDefaultFlags)); err != nil {
					t.Fatal(err)
				}
			}
			before := n.snapshot()
			code, out, errOut := n.run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, out, errOut)
			}
			sameTree(t, "after the refusal", before, n.snapshot())
			if got := n.takeRestarts(); got != "" {
				t.Errorf("restarted %q", got)
			}
		})
	}
}

// TestReadOnlyFile: a provider config nobody may write is left alone, with nothing else changed.
func TestReadOnlyFile(t *testing.T) {
	n := newNode(t, tree{
		"/etc/rancher/k3s/config.yaml": "\n",
		rancherConfigFile:              ecrConfig,
	})
	if err := os.Chmod(filepath.Join(n.root, rancherConfigFile), 0o444); err != nil {
		t.Fatal(err)
	}
	before := n.snapshot()
	code, _, errOut := n.run()
	if code != 1 || !strings.Contains(errOut, "/var/lib/rancher/credentialprovider/config.yaml is read-only (mode 0444)") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	sameTree(t, "after the refusal", before, n.snapshot())
}

// TestFailedWritePutsBack: when one write fails, the files already written are put back.
func TestFailedWritePutsBack(t *testing.T) {
	n := newNode(t, tree{kubeadmFlagsEnv: "KUBELET_KUBEADM_ARGS=\n", kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=--v=2\n", kubeadmConfigFile: ecrConfig})
	before := n.snapshot()
	p, err := ResolveProfile(n.root, ProfileKubeadm, GenericPaths{})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	restarted := false
	in := &Installer{Root: n.root, Profile: p, Config: []byte(ecrConfigForACR), Provider: "acr-credential-provider", Binary: []byte(selfBinary),
		Version: "1.2.3", Out: &out, failWrite: kubeadmDefaultFlags,
		Restart: func(string) (string, error) { restarted = true; return "", nil }}
	err = in.Install()
	if err == nil || !strings.Contains(err.Error(), "put back") {
		t.Errorf("Install: %v\n%s", err, out.String())
	}
	after := n.snapshot()
	// The directories created for the plugin may stay; no file may.
	for k := range after {
		if _, ok := before[k]; !ok && !strings.HasSuffix(k, "/") {
			t.Errorf("%s left behind", k)
		}
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	if restarted {
		t.Error("restarted after a failure")
	}
}

// ecrConfigForACR is a generated config of the ACR provider, for the tests that build the
// Installer themselves.
const ecrConfigForACR = `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: acr-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: ["registry*.*.aliyuncs.com"]
    defaultCacheDuration: 30m
`

// TestLockedNode: a second installer on the same node waits for the first, and gives up with a
// clear message when it does not finish.
func TestLockedNode(t *testing.T) {
	n := k3sNode(t, nil)
	unlock, err := lockRoot(n.root)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	saved := lockWait
	lockWait = 300 * time.Millisecond
	defer func() { lockWait = saved }()
	before := n.snapshot()
	code, _, errOut := n.run()
	if code != 1 || !strings.Contains(errOut, "another install-kubelet-plugin has held the lock") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	sameTree(t, "while locked", before, n.snapshot())
	unlock()
	n.mustRun()
}
