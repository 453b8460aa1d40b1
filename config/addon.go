package config

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The ACK add-on's keys (aliyun-acr-credential-helper, ConfigMap kube-system/acr-configuration),
// read as the add-on writes them: acr-registry-info and webhook-configuration are YAML held in a
// string, rrsa likewise. The same keys and values work in the helper's own file, as YAML or as the
// add-on's strings.

// AddonAPIVersion is the only acr-api-version the add-on knows (cr 2018-12-01).
const AddonAPIVersion = "2018-12-01"

// ManagedAcrRole is the role of the add-on's managed mode, assumed by ACK's control plane only.
const ManagedAcrRole = "AliyunCSManagedAcrRole"

// Webhook is the add-on's webhook-configuration: a mutating admission webhook that adds the pull
// Secret to a selected service account when it is created.
type Webhook struct {
	Enable         bool
	FailurePolicy  string // "Ignore" (default) or "Fail"
	TimeoutSeconds int    // 1..30; default 10
}

// Webhook defaults.
const (
	DefaultWebhookFailurePolicy  = "Ignore"
	DefaultWebhookTimeoutSeconds = 10
)

func (c *Config) addonFields() []field {
	return []field{
		{[]string{"acrapiversion"}, func(p, k string, v *yaml.Node) error {
			if err := stringSetter(&c.Cluster.APIVersion)(p, k, v); err != nil {
				return err
			}
			if c.Cluster.APIVersion != "" && c.Cluster.APIVersion != AddonAPIVersion {
				return fileError(p, v, k, fmt.Sprintf("%q: the add-on knows only %q (remove the key, or write %q)", c.Cluster.APIVersion, AddonAPIVersion, AddonAPIVersion))
			}
			return nil
		}},
		{[]string{"acrregistryinfo"}, func(p, k string, v *yaml.Node) error {
			n, err := embedded(p, k, v)
			if err != nil {
				return err
			}
			c.Cluster.RegistryInfo = true
			if n == nil {
				return nil // empty: the Personal Edition of the cluster's region (the controller's rule)
			}
			if len(c.Registries) > 0 {
				return fileError(p, v, k, "and registries both list entries: keep one of them")
			}
			return c.setRegistries(p, k, n)
		}},
		{[]string{"webhookconfiguration"}, func(p, k string, v *yaml.Node) error {
			n, err := embedded(p, k, v)
			if err != nil || n == nil {
				return err
			}
			w := &c.Cluster.Webhook
			err = mapping(p, k, n, []field{
				{[]string{"enable", "enabled"}, boolSetter(&w.Enable)},
				{[]string{"failurepolicy"}, func(p, k string, v *yaml.Node) error {
					if err := stringSetter(&w.FailurePolicy)(p, k, v); err != nil {
						return err
					}
					switch strings.ToLower(w.FailurePolicy) {
					case "ignore":
						w.FailurePolicy = "Ignore"
					case "fail":
						w.FailurePolicy = "Fail"
					default:
						return fileError(p, v, k, fmt.Sprintf("%q: write Ignore (creation goes on without the Secret if the controller is down) or Fail", w.FailurePolicy))
					}
					return nil
				}},
				{[]string{"timeoutseconds"}, func(p, k string, v *yaml.Node) error {
					d, err := durationNode(p, k, v)
					if err == nil && (d < 1e9 || d > 30e9 || d%1e9 != 0) {
						err = fileError(p, v, k, "must be a whole number of seconds from 1 to 30 (the Kubernetes limits)")
					}
					w.TimeoutSeconds = int(d / 1e9)
					return err
				}},
			})
			return err
		}},
		{[]string{"rrsa"}, func(p, k string, v *yaml.Node) error {
			n, err := embedded(p, k, v)
			if err != nil || n == nil {
				return err
			}
			return mapping(p, k, n, []field{{[]string{"enable", "enabled"}, boolSetter(&c.Cluster.RRSA)}})
		}},
		{[]string{"managedrole"}, func(p, k string, v *yaml.Node) error {
			return managedRoleError(p, v, k)
		}},
	}
}

// WebhookSettings returns the webhook settings with the defaults filled in.
func (c Cluster) WebhookSettings() Webhook {
	w := c.Webhook
	if w.FailurePolicy == "" {
		w.FailurePolicy = DefaultWebhookFailurePolicy
	}
	if w.TimeoutSeconds == 0 {
		w.TimeoutSeconds = DefaultWebhookTimeoutSeconds
	}
	return w
}

func managedRoleError(p string, v *yaml.Node, k string) error {
	return fileError(p, v, k, "the add-on's managed mode ("+ManagedAcrRole+") is assumed by ACK's control plane only and cannot work from a workload: give the entry rrsaRoleARN and rrsaOIDCProviderRoleARN (RRSA), or rely on the nodes' RAM role")
}

func (r *Registry) addonEntryFields() []field {
	return []field{
		{[]string{"customaccesskey"}, stringSetter(&r.CustomAccessKey)},
		{[]string{"customaccesskeysecret"}, func(p, k string, v *yaml.Node) error {
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return fileError(p, v, k, "must be a single value") // never the value itself
			}
			r.CustomAccessKeySecret = strings.TrimSpace(v.Value)
			return nil
		}},
		{[]string{"managedrole"}, func(p, k string, v *yaml.Node) error {
			return managedRoleError(p, v, k)
		}},
	}
}

// validateAddon checks the add-on's entry keys: the AccessKey pair goes together and is the
// entry's base credentials (so not with rrsaRoleARN or profile); the managed role is refused.
func (r *Registry) validateAddon(p, k string, n *yaml.Node) error {
	for name, arn := range map[string]string{"assumeRoleARN": r.ArnUser, "arnService": r.ArnService, "rrsaRoleARN": r.RRSARoleARN} {
		if strings.HasSuffix(strings.ToLower(arn), "/"+strings.ToLower(ManagedAcrRole)) {
			return managedRoleError(p, n, k+"."+name)
		}
	}
	if (r.CustomAccessKey == "") != (r.CustomAccessKeySecret == "") {
		return fileError(p, n, k, "customAccessKey and customAccessKeySecret go together: set both, or neither")
	}
	if r.CustomAccessKey != "" && (r.RRSARoleARN != "" || r.Profile != "") {
		return fileError(p, n, k+".customAccessKey", "and rrsaRoleARN or profile both name the entry's base credentials: keep one (RRSA is the better)")
	}
	return nil
}

// embedded returns the YAML held in v: v itself when it is already a mapping or a list, else the
// document in its string (the add-on writes `acr-registry-info: |` and a list below). Nil for an
// empty string. Lines of a string's document are counted from the key's line.
func embedded(p, k string, v *yaml.Node) (*yaml.Node, error) {
	if v.Kind != yaml.ScalarNode {
		return v, nil
	}
	if v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v.Value), &doc); err != nil {
		return nil, fileError(p, v, k, "holds no valid YAML ("+err.Error()+"): the add-on writes it as a block (key: |) of YAML")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	n := doc.Content[0]
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || strings.TrimSpace(n.Value) == "") {
		return nil, nil
	}
	shiftLines(n, v.Line)
	return n, nil
}

func shiftLines(n *yaml.Node, by int) {
	if by == 0 {
		n.Line = 0
	} else {
		n.Line += by
	}
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// LoadMap reads the configuration from keys and string values, the data of the ACK add-on's
// ConfigMap, then applies the environment looked up with getenv. source names the map in
// messages ("ConfigMap kube-system/acr-configuration"). Every key of the helper's file is a key
// here too; the add-on's dashed spellings are the same keys.
func LoadMap(source string, data map[string]string, getenv func(string) string) (*Config, error) {
	c := newConfig(getenv)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range keys {
		root.Content = append(root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: data[k]})
	}
	if err := c.parseDocument(source, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	return c, c.applyEnv(getenv)
}
