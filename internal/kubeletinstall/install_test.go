package kubeletinstall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Provider configs of other providers, as their projects document them (the ECR plugin's
// README, a GCR setup): comments and order must survive the merge.
const ecrConfig = `# Managed by the node image: the ECR plugin for the mirror.
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  # ECR first: its credentials win for overlapping keys.
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`

const twoProvidersConfig = `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: ecr-credential-provider
  matchImages: ["*.dkr.ecr.*.amazonaws.com"]
  defaultCacheDuration: 12h
  apiVersion: credentialprovider.kubelet.k8s.io/v1
- name: gcp-credential-provider # Artifact Registry
  matchImages:
  - "*.pkg.dev"
  defaultCacheDuration: 10m
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  args: [get-credentials]
`

// providerNames are the names of the providers of a config, in order.
func providerNames(t *testing.T, data string) []string {
	t.Helper()
	var c struct {
		Providers []struct {
			Name string `yaml:"name"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var names []string
	for _, p := range c.Providers {
		names = append(names, p.Name)
	}
	return names
}

// TestProfiles: each kind of node, installed, installed again (nothing changes, no restart),
// then uninstalled (the tree byte for byte as before).
func TestProfiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		tree tree
		args []string
		// After the install:
		say        []string          // in the output
		configFile string            // the provider config
		providers  string            // its providers, in order
		contains   map[string]string // node file -> text in it
		unit       string            // restarted
	}{{
		name: "kubeadm Debian, flags added to /etc/default/kubelet",
		tree: tree{
			kubeadmFlagsEnv:     `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"` + "\n",
			kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n",
		},
		say:        []string{"profile kubeadm (auto: found /var/lib/kubelet/kubeadm-flags.env)", "updated /etc/default/kubelet"},
		configFile: kubeadmConfigFile,
		providers:  "acr-credential-provider",
		contains: map[string]string{kubeadmDefaultFlags: `KUBELET_EXTRA_ARGS="--node-ip=10.0.0.5 --image-credential-provider-config=/etc/kubernetes/image-credential-provider-config.yaml --image-credential-provider-bin-dir=/var/lib/kubelet/credential-provider/bin"`,
			kubeadmBinDir + "/acr-credential-provider": selfBinary},
		unit: "kubelet",
	}, {
		name: "kubeadm RHEL, no sysconfig file yet",
		tree: tree{kubeadmFlagsEnv: "KUBELET_KUBEADM_ARGS=\"\"\n", "/etc/sysconfig/": ""},
		args: []string{"--profile", "kubeadm"},
		say:  []string{"created /etc/sysconfig/kubelet"}, configFile: kubeadmConfigFile, providers: "acr-credential-provider",
		contains: map[string]string{kubeadmSysconfig: `KUBELET_EXTRA_ARGS="--image-credential-provider-config=`},
		unit:     "kubelet",
	}, {
		name: "kubeadm whose kubelet already has an ECR provider config: merged, no flag added",
		tree: tree{
			kubeadmFlagsEnv:     `KUBELET_KUBEADM_ARGS="--image-credential-provider-config=/etc/eks/image-credential-provider/config.yaml --image-credential-provider-bin-dir=/etc/eks/image-credential-provider"` + "\n",
			kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=\n",
			"/etc/eks/image-credential-provider/config.yaml":             ecrConfig,
			"/etc/eks/image-credential-provider/ecr-credential-provider": "ecr\n",
		},
		say:        []string{"merging into it", "updated /etc/eks/image-credential-provider/config.yaml"},
		configFile: "/etc/eks/image-credential-provider/config.yaml",
		providers:  "ecr-credential-provider acr-credential-provider",
		contains: map[string]string{
			"/etc/eks/image-credential-provider/config.yaml":                 "# Managed by the node image: the ECR plugin for the mirror.\n",
			"/etc/eks/image-credential-provider/acr-credential-provider":     selfBinary,
			"/etc/eks/image-credential-provider/config.yaml" + "\x00comment": "# ECR first: its credentials win for overlapping keys.",
			kubeadmDefaultFlags: "KUBELET_EXTRA_ARGS=\n",
		},
		unit: "kubelet",
	}, {
		name:       "k3s server, default paths",
		tree:       tree{"/etc/rancher/k3s/config.yaml": "write-kubeconfig-mode: \"0644\"\n", "/etc/systemd/system/k3s.service": "[Service]\n"},
		say:        []string{"profile k3s (auto: found /etc/rancher/k3s)", "created /var/lib/rancher/credentialprovider/config.yaml"},
		configFile: rancherConfigFile, providers: "acr-credential-provider",
		contains: map[string]string{rancherBinDir + "/acr-credential-provider": selfBinary, "/etc/rancher/k3s/config.yaml": "write-kubeconfig-mode: \"0644\"\n"},
		unit:     "k3s",
	}, {
		name: "k3s agent whose drop-in points the kubelet at another config",
		tree: tree{
			"/etc/rancher/k3s/config.yaml":               "server: https://10.0.0.1:6443\n",
			"/etc/rancher/k3s/config.yaml.d/50-ecr.yaml": "kubelet-arg:\n  - image-credential-provider-config=/etc/ecr/config.yaml\n  - image-credential-provider-bin-dir=/opt/ecr/bin\n",
			"/etc/ecr/config.yaml":                       twoProvidersConfig,
			"/opt/ecr/bin/":                              "",
			"/etc/systemd/system/k3s-agent.service":      "[Service]\n",
		},
		args:       []string{"--profile", "k3s"},
		say:        []string{"/etc/rancher/k3s/config.yaml.d/50-ecr.yaml kubelet-arg sets /etc/ecr/config.yaml"},
		configFile: "/etc/ecr/config.yaml", providers: "ecr-credential-provider gcp-credential-provider acr-credential-provider",
		contains: map[string]string{"/opt/ecr/bin/acr-credential-provider": selfBinary, "/etc/ecr/config.yaml": "- name: gcp-credential-provider # Artifact Registry"},
		unit:     "k3s-agent",
	}, {
		name: "RKE2 agent with another provider at the default path",
		tree: tree{
			"/etc/rancher/rke2/config.yaml":                    "token: x\n",
			rancherConfigFile:                                  ecrConfig,
			rancherBinDir + "/ecr-credential-provider":         "ecr\n",
			"/usr/local/lib/systemd/system/rke2-agent.service": "[Service]\n",
		},
		say:        []string{"profile rke2 (auto: found /etc/rancher/rke2)", "updated /var/lib/rancher/credentialprovider/config.yaml"},
		configFile: rancherConfigFile, providers: "ecr-credential-provider acr-credential-provider",
		unit: "rke2-agent",
	}, {
		name:       "generic",
		tree:       tree{"/etc/kubelet.env": "# the kubelet's flags\nKUBELET_ARGS=\"--v=2\"\n"},
		args:       []string{"--profile", "generic", "--config-file", "/etc/kubelet/credential-providers.yaml", "--bin-dir", "/opt/kubelet/plugins", "--kubelet-flags-file", "/etc/kubelet.env", "--kubelet-flags-var", "KUBELET_ARGS", "--kubelet-unit", "kubelet-custom"},
		configFile: "/etc/kubelet/credential-providers.yaml", providers: "acr-credential-provider",
		contains: map[string]string{"/etc/kubelet.env": "# the kubelet's flags\nKUBELET_ARGS=\"--v=2 --image-credential-provider-config=/etc/kubelet/credential-providers.yaml --image-credential-provider-bin-dir=/opt/kubelet/plugins\"\n"},
		unit:     "kubelet-custom",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, tc.tree)
			before := n.snapshot()

			out := n.mustRun(tc.args...)
			for _, s := range tc.say {
				if !strings.Contains(out, s) {
					t.Errorf("the output lacks %q:\n%s", s, out)
				}
			}
			cfg := n.read(tc.configFile)
			if got := strings.Join(providerNames(t, cfg), " "); got != tc.providers {
				t.Errorf("providers %q, want %q:\n%s", got, tc.providers, cfg)
			}
			for p, want := range tc.contains {
				p, _, _ = strings.Cut(p, "\x00")
				if got := n.read(p); !strings.Contains(got, want) {
					t.Errorf("%s lacks %q:\n%s", p, want, got)
				}
			}
			if got := n.takeRestarts(); got != tc.unit {
				t.Errorf("restarted %q, want %q\n%s", got, tc.unit, out)
			}
			if !strings.Contains(out, "restarted "+tc.unit) {
				t.Errorf("the output does not say it restarted %s:\n%s", tc.unit, out)
			}
			st, err := os.Stat(filepath.Join(n.root, stateFile))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("the state record: %v, mode %v; want 0600", err, st.Mode())
			}

			// A second install: nothing changes, no restart.
			installed := n.snapshot()
			out = n.mustRun(tc.args...)
			sameTree(t, "second install", installed, n.snapshot())
			if got := n.takeRestarts(); got != "" {
				t.Errorf("the second install restarted %q:\n%s", got, out)
			}
			if !strings.Contains(out, "nothing to change") {
				t.Errorf("the second install does not say it changed nothing:\n%s", out)
			}

			// Uninstall: the tree as before, byte for byte, and the kubelet restarted.
			out = n.mustRun("--uninstall")
			sameTree(t, "after --uninstall", before, n.snapshot())
			if got := n.takeRestarts(); got != tc.unit {
				t.Errorf("--uninstall restarted %q, want %q:\n%s", got, tc.unit, out)
			}
			// And again: nothing to do.
			out = n.mustRun("--uninstall")
			if !strings.Contains(out, "nothing to uninstall") {
				t.Errorf("a second --uninstall: %s", out)
			}
		})
	}
}
