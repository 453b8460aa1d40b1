package refresh

import (
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Per-namespace watching (Controller.Namespaced): with a list of namespaces the controller needs
// service accounts and Secrets in those namespaces only, so the RBAC can be RoleBindings in each
// of them (deploy/namespaced/) instead of cluster-wide rights.

// ErrWatchSetChanged is Run's answer when a namespaced watch list changed: restart to watch the
// new list (the RBAC of a new namespace is granted with it).
var ErrWatchSetChanged = errors.New("the list of watched namespaces changed: restarting to watch the new list (per-namespace RBAC)")

// namespacedSet is the list Run watches one namespace at a time, nil for cluster-wide watching.
func (c *Controller) namespacedSet(s Settings) []string {
	if !c.Namespaced || slices.Contains(s.Namespaces, AllNamespaces) {
		return nil
	}
	set := slices.Clone(s.Namespaces)
	slices.Sort(set)
	return slices.Compact(set)
}

// leftRunSet says whether new settings change the namespaced watch set Run started with, and
// which namespaces left it. c.mu is held.
func (c *Controller) leftRunSet(s Settings) (removed []string, changed bool) {
	if c.runSet == nil || !c.Namespaced {
		return nil, false
	}
	next := c.namespacedSet(s)
	if slices.Equal(next, c.runSet) {
		return nil, false
	}
	for _, ns := range c.runSet {
		if !slices.Contains(next, ns) {
			removed = append(removed, ns)
		}
	}
	return removed, true
}

var emptyIndexer = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})

// accountListers is one service-account lister per watched namespace.
type accountListers map[string]corelisters.ServiceAccountLister

func (m accountListers) List(sel labels.Selector) ([]*corev1.ServiceAccount, error) {
	var out []*corev1.ServiceAccount
	for _, l := range m {
		got, err := l.List(sel)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (m accountListers) ServiceAccounts(ns string) corelisters.ServiceAccountNamespaceLister {
	if l, ok := m[ns]; ok {
		return l.ServiceAccounts(ns)
	}
	return corelisters.NewServiceAccountLister(emptyIndexer).ServiceAccounts(ns) // not watched: none
}

// secretListers is one lister of the controller's Secret per watched namespace.
type secretListers map[string]corelisters.SecretLister

func (m secretListers) List(sel labels.Selector) ([]*corev1.Secret, error) {
	var out []*corev1.Secret
	for _, l := range m {
		got, err := l.List(sel)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (m secretListers) Secrets(ns string) corelisters.SecretNamespaceLister {
	if l, ok := m[ns]; ok {
		return l.Secrets(ns)
	}
	return corelisters.NewSecretLister(emptyIndexer).Secrets(ns)
}
