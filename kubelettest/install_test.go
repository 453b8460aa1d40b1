package kubelettest

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	kubeletconfigv1 "k8s.io/kubelet/config/v1"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletinstall"
)

// Other providers' configs as nodes have them (the ECR plugin's documented config, a GCP one in
// flow style with comments).
const otherProviders = `# the node image's providers
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  # ECR first
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
  - {name: gcp-credential-provider, matchImages: ["*.pkg.dev"], defaultCacheDuration: 10m, apiVersion: credentialprovider.kubelet.k8s.io/v1, args: [get-credentials]} # GCP
`

// decodeProviderConfig decodes a config with the kubelet's strict decoder and checks what the
// kubelet checks across providers (names unique).
func decodeProviderConfig(t *testing.T, data []byte) *kubeletconfigv1.CredentialProviderConfig {
	t.Helper()
	obj, gvk, err := configCodecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("the kubelet's decoder refuses the config: %v\n%s", err, data)
	}
	cfg, ok := obj.(*kubeletconfigv1.CredentialProviderConfig)
	if !ok {
		t.Fatalf("decoded %T (%v)", obj, gvk)
	}
	seen := map[string]bool{}
	for _, p := range cfg.Providers {
		if seen[p.Name] {
			t.Errorf("provider %q twice:\n%s", p.Name, data)
		}
		seen[p.Name] = true
	}
	return cfg
}

// TestInstalledConfigDecodes: the config the node installer merges into another provider's is
// decoded strictly by the kubelet's types, keeps the other providers as they were, and holds the
// ACR entry exactly as print-kubelet-config writes it; --uninstall gives the file back.
func TestInstalledConfigDecodes(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		name     string
		existing string
		args     []string
	}{
		{"new config", "", nil},
		{"merged into other providers", otherProviders, []string{"--match-image", "registry.example.com"}},
		{"per-workload identity and the helper's config", otherProviders, []string{"--service-account-tokens", "--oidc-provider-arn", providerARN, "--helper-config", "HELPER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			const cfgPath = "/var/lib/rancher/credentialprovider/config.yaml"
			files := map[string]string{"/etc/rancher/k3s/config.yaml": "\n"}
			if tc.existing != "" {
				files[cfgPath] = tc.existing
			}
			for p, c := range files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			self := filepath.Join(dir, "docker-credential-acr")
			if err := os.WriteFile(self, []byte("binary"), 0o755); err != nil {
				t.Fatal(err)
			}
			helper := filepath.Join(dir, "helper.yaml")
			if err := os.WriteFile(helper, []byte("strict: true\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"--root", root, "--no-restart"}
			for _, a := range tc.args {
				if a == "HELPER" {
					a = helper
				}
				args = append(args, a)
			}
			run := func(args ...string) {
				t.Helper()
				var out, errOut bytes.Buffer
				if code := kubeletinstall.Run(args, func(string) string { return "" }, kubeletinstall.Self{Path: self, Version: "v1.0.0"}, &out, &errOut); code != 0 {
					t.Fatalf("install-kubelet-plugin %q: exit %d\n%s%s", args, code, out.String(), errOut.String())
				}
			}
			run(args...)
			run(args...) // twice: still one entry
			data, err := os.ReadFile(filepath.Join(root, cfgPath))
			if err != nil {
				t.Fatal(err)
			}
			cfg := decodeProviderConfig(t, data)
			var acr *kubeletconfigv1.CredentialProvider
			var others []kubeletconfigv1.CredentialProvider
			for i, p := range cfg.Providers {
				if p.Name == kubeletapi.ProviderName {
					acr = &cfg.Providers[i]
				} else {
					others = append(others, p)
				}
			}
			if acr == nil {
				t.Fatalf("no %s entry:\n%s", kubeletapi.ProviderName, data)
			}
			if cfg.Providers[len(cfg.Providers)-1].Name != kubeletapi.ProviderName {
				t.Errorf("the ACR entry is not appended after the others")
			}
			// The ACR entry passes the kubelet's checks (without the helper's env, which
			// validateConfig's per-workload case does not expect).
			checked := *acr
			var env []kubeletconfigv1.ExecEnvVar
			helperEnv := false
			for _, e := range acr.Env {
				if e.Name == "DOCKER_CREDENTIAL_ACR_CONFIG" {
					helperEnv = e.Value == kubeletinstall.HelperConfigPath
					continue
				}
				env = append(env, e)
			}
			checked.Env = env
			validateConfig(t, &kubeletconfigv1.CredentialProviderConfig{Providers: []kubeletconfigv1.CredentialProvider{checked}})
			if wantHelper := tc.args != nil && tc.args[len(tc.args)-1] == "HELPER"; helperEnv != wantHelper {
				t.Errorf("DOCKER_CREDENTIAL_ACR_CONFIG in the env: %v, want %v (%+v)", helperEnv, wantHelper, acr.Env)
			}
			if tc.existing != "" {
				want := decodeProviderConfig(t, []byte(tc.existing)).Providers
				if !reflect.DeepEqual(others, want) {
					t.Errorf("the other providers changed:\n got %+v\nwant %+v", others, want)
				}
			}
			run("--root", root, "--no-restart", "--uninstall")
			after, err := os.ReadFile(filepath.Join(root, cfgPath))
			switch {
			case tc.existing == "" && !os.IsNotExist(err):
				t.Errorf("the created config stays after --uninstall: %v", err)
			case tc.existing != "" && string(after) != tc.existing:
				t.Errorf("after --uninstall:\n%s\nwant\n%s", after, tc.existing)
			}
		})
	}
}
