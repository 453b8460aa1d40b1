package config

import (
	"fmt"
	"net/mail"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The ACK add-on's cluster keys. The helper itself ignores them; the cluster-wide refresher
// (controller/) reads them from the same file. expiringThreshold is shared with the helper.
const (
	DefaultWatchNamespace = "default"
	DefaultServiceAccount = "default"
	AllNamespaces         = "all" // watchNamespace: every namespace
	AllServiceAccounts    = "*"   // serviceAccount: every service account of a watched namespace
)

// Cluster holds the add-on's cluster keys as written (empty lists mean the defaults).
type Cluster struct {
	WatchNamespaces []string // names, or the single word "all"
	ServiceAccounts []string // names, or the single "*"
	NotifyEmail     string   // written as `email` into each auths entry of the Secret
	// The add-on's other keys (addon.go).
	APIVersion string  // acr-api-version: "2018-12-01", the only one there is
	Webhook    Webhook // webhook-configuration
	RRSA       bool    // rrsa: enable
	// RegistryInfo is set when acr-registry-info was given (an empty one means the Personal
	// Edition of the cluster's region).
	RegistryInfo bool
}

// Namespaces returns the watch set: ["all"], or the listed names (default ["default"]).
func (c Cluster) Namespaces() []string {
	if len(c.WatchNamespaces) == 0 {
		return []string{DefaultWatchNamespace}
	}
	return c.WatchNamespaces
}

// Accounts returns the selected service accounts: ["*"], or the listed names (default ["default"]).
func (c Cluster) Accounts() []string {
	if len(c.ServiceAccounts) == 0 {
		return []string{DefaultServiceAccount}
	}
	return c.ServiceAccounts
}

func (c *Cluster) fields() []field {
	return []field{
		{[]string{"watchnamespace", "watchnamespaces"}, namesSetter(&c.WatchNamespaces, AllNamespaces, "namespace")},
		{[]string{"serviceaccount", "serviceaccounts"}, namesSetter(&c.ServiceAccounts, AllServiceAccounts, "service account")},
		{[]string{"notifyemail"}, func(p, k string, v *yaml.Node) error {
			if err := stringSetter(&c.NotifyEmail)(p, k, v); err != nil {
				return err
			}
			if c.NotifyEmail != "" {
				if a, err := mail.ParseAddress(c.NotifyEmail); err != nil || a.Address != c.NotifyEmail {
					return fileError(p, v, k, fmt.Sprintf("%q is not an email address such as ops@example.com", c.NotifyEmail))
				}
			}
			return nil
		}},
	}
}

// namesSetter reads an add-on style comma list ("a,b") or a YAML list of Kubernetes names; the
// word all (which may not be mixed with names) selects everything.
func namesSetter(dst *[]string, all, what string) func(string, string, *yaml.Node) error {
	return func(p, k string, v *yaml.Node) error {
		var raw []string
		switch v.Kind {
		case yaml.ScalarNode:
			raw = strings.Split(v.Value, ",")
		case yaml.SequenceNode:
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					return fileError(p, item, k, "each entry must be a "+what+" name")
				}
				raw = append(raw, item.Value)
			}
		default:
			return fileError(p, v, k, "must be a comma-separated list of "+what+" names, or "+all)
		}
		var names []string
		seen := map[string]bool{}
		for _, n := range raw {
			n = strings.TrimSpace(n)
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			if what == "service account" && n == "Default" {
				n = DefaultServiceAccount // the managed console writes the default service account so
			}
			if n != all && !validName(n, what == "service account") {
				return fileError(p, v, k, fmt.Sprintf("%q is not a %s name (lower-case letters, digits and '-'%s, at most 63)", n, what, map[bool]string{true: " or '.'"}[what == "service account"]))
			}
			names = append(names, n)
		}
		if len(names) == 0 {
			return fileError(p, v, k, "is empty: name at least one "+what+", or write "+all)
		}
		if seen[all] && len(names) > 1 {
			return fileError(p, v, k, all+" selects every "+what+": do not mix it with names")
		}
		*dst = names
		return nil
	}
}

// validName checks a namespace name (a DNS label) or, with dots, a service account name.
func validName(s string, dots bool) bool {
	if len(s) == 0 || len(s) > 253 || (!dots && len(s) > 63) || strings.ContainsAny(s[:1]+s[len(s)-1:], "-.") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || dots && c == '.') {
			return false
		}
	}
	return true
}
