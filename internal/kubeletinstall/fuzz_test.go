package kubeletinstall

import (
	"strings"
	"testing"
)

// FuzzMergeProvider: whatever is in the provider config file, the merge gives a clear error or a
// config holding the ACR entry exactly once, from which removeProvider takes it out again;
// never a panic.
func FuzzMergeProvider(f *testing.F) {
	for _, s := range []string{ecrConfig, twoProvidersConfig, "", "{}", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n",
		"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [{name: acr-credential-provider}, {name: acr-credential-provider}]\n",
		"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: &a [*a]\n", "- a\n- b\n", "kind: [\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, existing string) {
		if len(existing) > 1<<16 {
			return
		}
		out, err := mergeProvider("/c.yaml", []byte(existing), []byte(ecrConfigForACR), "acr-credential-provider")
		if err != nil {
			if !strings.Contains(err.Error(), "/c.yaml") && !strings.Contains(err.Error(), "generated") {
				t.Errorf("the error does not name the file: %v", err)
			}
			return
		}
		doc, err := parseConfig("/c.yaml", out)
		if err != nil {
			t.Fatalf("the merged config does not parse: %v\n%s", err, out)
		}
		providers := mapValue(doc, "providers")
		count := 0
		for _, p := range providers.Content {
			if p.Kind == 4 { // MappingNode
				if n, _ := scalar(p, "name"); n == "acr-credential-provider" {
					count++
				}
			}
		}
		if count < 1 {
			t.Fatalf("no ACR entry in\n%s", out)
		}
		back, removed, err := removeProvider("/c.yaml", out, "acr-credential-provider")
		if err != nil || !removed {
			t.Fatalf("removeProvider: %v %v", removed, err)
		}
		if _, err := parseConfig("/c.yaml", back); err != nil {
			t.Fatalf("after removeProvider: %v\n%s", err, back)
		}
	})
}

// FuzzEnvFlags: adding the flags to any environment file and taking them out again never
// panics, adds each flag at most once, and a second add changes nothing.
func FuzzEnvFlags(f *testing.F) {
	for _, s := range []string{"", "KUBELET_EXTRA_ARGS=\n", "KUBELET_EXTRA_ARGS=\"--v=2\"", "export KUBELET_EXTRA_ARGS='a b'\n", "KUBELET_EXTRA_ARGS=\"\n", "KUBELET_EXTRA_ARGS=--image-credential-provider-config"} {
		f.Add(s)
	}
	add := []string{"--image-credential-provider-config=/c.yaml", "--image-credential-provider-bin-dir=/bin"}
	f.Fuzz(func(t *testing.T, data string) {
		out, added, err := addFlags([]byte(data), "KUBELET_EXTRA_ARGS", add)
		if err != nil {
			return
		}
		again, more, err := addFlags(out, "KUBELET_EXTRA_ARGS", add)
		if err != nil || len(more) != 0 || string(again) != string(out) {
			t.Fatalf("a second add changed %q into %q (added %v, %v)", out, again, more, err)
		}
		value, _, _ := findEnvVar(out, "KUBELET_EXTRA_ARGS")
		for _, f := range added {
			if strings.Count(value, f) < 1 {
				t.Fatalf("%s not in %q", f, value)
			}
		}
		removeFlags(out, "KUBELET_EXTRA_ARGS", added)
	})
}
