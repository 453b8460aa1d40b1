// Package refresh is the cluster-wide refresher: it keeps one kubernetes.io/dockerconfigjson Secret
// with fresh ACR logins in each watched namespace and lists it in the selected service accounts'
// imagePullSecrets. It knows Kubernetes; what a registry is and how its token is fetched comes in
// through Settings (the binary's adapter to the helper's packages builds them).
package refresh

import (
	"context"
	"slices"
	"time"
)

// Token is one registry login.
type Token struct {
	Username  string
	Password  string
	ExpiresAt time.Time
	// Hosts, when set, are the hosts this login serves, found when it was fetched (an instance's
	// domains from ListInstanceEndpoint); they replace Registry.Hosts.
	Hosts []string
}

// Registry is one entry of the configuration: the hosts its one token serves (or none, when the
// token's own Hosts say them) and how to fetch it.
type Registry struct {
	// Key changes whenever anything that decides the token changes; an entry whose key survives a
	// reload keeps its token (no new call).
	Key string
	// Name names the entry in logs and metrics ("registries[0] (cri-…)"); never a secret.
	Name  string
	Hosts []string
	Fetch func(ctx context.Context) (Token, error)
}

// Settings is what the controller does, from the config file.
type Settings struct {
	Registries      []Registry
	Namespaces      []string // names, or ["all"]
	ServiceAccounts []string // names, or ["*"]
	Threshold       time.Duration
	Email           string
	// Webhook is the add-on's webhook-configuration: add the Secret to a selected service
	// account when it is created (webhook.go).
	Webhook Webhook
}

// Webhook is how the mutating admission webhook is run.
type Webhook struct {
	Enable         bool
	FailurePolicy  string // Ignore or Fail
	TimeoutSeconds int32
}

// Selector words, as the ACK add-on spells them.
const (
	AllNamespaces      = "all"
	AllServiceAccounts = "*"
)

func (s *Settings) watches(ns string) bool {
	return slices.Contains(s.Namespaces, AllNamespaces) || slices.Contains(s.Namespaces, ns)
}

func (s *Settings) selects(sa string) bool {
	return slices.Contains(s.ServiceAccounts, AllServiceAccounts) || slices.Contains(s.ServiceAccounts, sa)
}
