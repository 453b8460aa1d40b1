package kubeletinstall

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The CredentialProviderConfig is edited as YAML nodes: other providers, their order, the
// comments and the file's other keys stay; the installer's entry (found by its name) is replaced
// in place or appended, never duplicated.

// ErrCannotMerge is returned for a provider config the installer will not edit.
var ErrCannotMerge = errors.New("cannot merge into this credential provider config")

// mergeProvider returns existing with the provider of ours (a whole config as
// print-kubelet-config writes it) in it; an empty existing gives ours as it is.
func mergeProvider(path string, existing, ours []byte, name string) ([]byte, error) {
	if len(bytes.TrimSpace(existing)) == 0 {
		return ours, nil
	}
	ourDoc, err := parseConfig("the generated config", ours)
	if err != nil {
		return nil, err
	}
	ourVersion, _ := scalar(ourDoc, "apiVersion")
	ourEntry, _ := findProvider(ourDoc, name)
	if ourEntry == nil {
		return nil, fmt.Errorf("the generated config has no provider %q", name)
	}
	doc, err := parseConfig(path, existing)
	if err != nil {
		return nil, err
	}
	if v, _ := scalar(doc, "apiVersion"); v != ourVersion {
		return nil, fmt.Errorf("%s: %w: its apiVersion is %q and the ACR provider is written for %q; pass --api-version to match the file (v1, v1beta1, v1alpha1), or move the file to %s",
			path, ErrCannotMerge, v, ourVersion, ourVersion)
	}
	providers := mapValue(doc, "providers")
	if providers == nil {
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "providers"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
		providers = doc.Content[len(doc.Content)-1]
	}
	if providers.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: %w: providers is not a list", path, ErrCannotMerge)
	}
	if providers.Style&yaml.FlowStyle != 0 {
		providers.Style = 0
	}
	if _, i := findProvider(doc, name); i >= 0 {
		// Keep the comments written above the old entry.
		ourEntry.HeadComment = providers.Content[i].HeadComment
		providers.Content[i] = ourEntry
	} else {
		providers.Content = append(providers.Content, ourEntry)
	}
	return encode(doc)
}

// removeProvider returns existing without the provider name, and whether it was there.
func removeProvider(path string, existing []byte, name string) ([]byte, bool, error) {
	doc, err := parseConfig(path, existing)
	if err != nil {
		return nil, false, err
	}
	_, i := findProvider(doc, name)
	if i < 0 {
		return existing, false, nil
	}
	providers := mapValue(doc, "providers")
	providers.Content = append(providers.Content[:i:i], providers.Content[i+1:]...)
	out, err := encode(doc)
	return out, true, err
}

// parseConfig parses a CredentialProviderConfig into its top mapping node.
func parseConfig(path string, data []byte) (*yaml.Node, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return nil, fmt.Errorf("%s: %w: it is JSON, and rewriting it as YAML would change its format; add the ACR provider by hand (print-kubelet-config prints it) or convert the file to YAML", path, ErrCannotMerge)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrCannotMerge, err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, fmt.Errorf("%s: %w: it holds more than one YAML document", path, ErrCannotMerge)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: %w: not a YAML mapping", path, ErrCannotMerge)
	}
	doc := root.Content[0]
	// Keep the document node's comments on the mapping, which is what encode writes.
	if root.HeadComment != "" {
		doc.HeadComment = joinComments(root.HeadComment, doc.HeadComment)
	}
	if root.FootComment != "" {
		doc.FootComment = joinComments(doc.FootComment, root.FootComment)
	}
	if kind, _ := scalar(doc, "kind"); kind != "CredentialProviderConfig" {
		return nil, fmt.Errorf("%s: %w: kind is %q, not CredentialProviderConfig", path, ErrCannotMerge, kind)
	}
	return doc, nil
}

func joinComments(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n\n" + b
}

func encode(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapValue is the value node of key in mapping m, nil when absent.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) (string, bool) {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return "", false
	}
	return v.Value, true
}

// findProvider is the entry of the provider name and its index, (nil, -1) when absent.
func findProvider(doc *yaml.Node, name string) (*yaml.Node, int) {
	providers := mapValue(doc, "providers")
	if providers == nil || providers.Kind != yaml.SequenceNode {
		return nil, -1
	}
	for i, p := range providers.Content {
		if p.Kind == yaml.MappingNode {
			if n, _ := scalar(p, "name"); n == name {
				return p, i
			}
		}
	}
	return nil, -1
}

// withEnv returns the config ours with NAME=value added to the env of the provider name.
func withEnv(ours []byte, provider, envName, value string) ([]byte, error) {
	if value == "" {
		return ours, nil
	}
	// Re-encoded as nodes: the comments print-kubelet-config wrote stay with their keys.
	doc, err := parseConfig("the generated config", ours)
	if err != nil {
		return nil, err
	}
	entry, _ := findProvider(doc, provider)
	if entry == nil {
		return nil, fmt.Errorf("the generated config has no provider %q", provider)
	}
	env := mapValue(entry, "env")
	if env == nil {
		entry.Content = append(entry.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "env"}, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
		env = entry.Content[len(entry.Content)-1]
	}
	env.Content = append(env.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: envName},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "value"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle},
	}})
	out, err := encode(doc)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(out)) == "" {
		return nil, errors.New("empty config")
	}
	return out, nil
}
