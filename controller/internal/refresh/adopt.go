package refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Migration from the ACK add-on (opt-in, Controller.Adopt): the add-on leaves Secrets named
// acr-credential-<32 hex> that service accounts (and sometimes workloads, directly) name. Once the
// add-on is gone nobody refreshes them. The controller adopts such a Secret in a watched namespace
// when it is a kubernetes.io/dockerconfigjson Secret holding only hosts the configured registries
// serve, whether a service account names it or not (a pod spec may name it directly, and the
// controller does not read workloads): it labels it as its own and keeps it refreshed in place with
// the same logins as its own Secret, so whatever names it keeps pulling. Anything else is left
// untouched (and said once).
//
// The Secrets no service account names are found by listing the namespace's dockerconfigjson
// Secrets (a field selector on type) when the controller starts and after each token refresh or
// reload (enqueueAll), not on every reconcile: the add-on makes no new ones once it is gone.

var addonSecretName = regexp.MustCompile(`^acr-credential-[0-9a-f]{32}$`)

// AdoptedAnnotation records where an adopted Secret came from.
const AdoptedAnnotation = "acr-credential-controller.docker-credential-acr.io/adopted-from"

// adopt refreshes the add-on Secrets of the namespace, those its service accounts name and those
// the last scan (scanAddonSecrets) found; data is the controller's own .dockerconfigjson for it.
func (c *Controller) adopt(ctx context.Context, ns string, data []byte) error {
	var ours dockerConfig
	if err := json.Unmarshal(data, &ours); err != nil {
		return err
	}
	list, err := c.accounts.ServiceAccounts(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	names := map[string]bool{}
	scanned, err := c.scanAddonSecrets(ctx, ns)
	if err != nil {
		return err
	}
	for _, n := range scanned {
		names[n] = true
	}
	for _, sa := range list {
		for _, r := range sa.ImagePullSecrets {
			if addonSecretName.MatchString(r.Name) {
				names[r.Name] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		sec, err := c.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the add-on's Secret %s/%s: %w", ns, name, err)
		}
		adopted := sec.Labels[ManagedByLabel] == ManagedByValue
		if !adopted {
			if why := adoptable(sec, ours); why != "" {
				c.once(ns+"/"+name+"/"+string(sec.UID), func() {
					c.log().Warn("not adopting an add-on Secret: it stays as it is, and nobody refreshes it", "namespace", ns, "secret", name, "reason", why)
				})
				continue
			}
		}
		if adopted && sec.Type == corev1.SecretTypeDockerConfigJson && len(sec.Data) == 1 && string(sec.Data[corev1.DockerConfigJsonKey]) == string(data) {
			continue
		}
		upd := sec.DeepCopy()
		if upd.Labels == nil {
			upd.Labels = map[string]string{}
		}
		upd.Labels[ManagedByLabel] = ManagedByValue
		if !adopted {
			if upd.Annotations == nil {
				upd.Annotations = map[string]string{}
			}
			upd.Annotations[AdoptedAnnotation] = "aliyun-acr-credential-helper"
		}
		upd.Data = map[string][]byte{corev1.DockerConfigJsonKey: data}
		if _, err := c.Client.CoreV1().Secrets(ns).Update(ctx, upd, metav1.UpdateOptions{FieldManager: ManagedByValue}); err != nil {
			return fmt.Errorf("refreshing the add-on's Secret %s/%s: %w", ns, name, err)
		}
		c.Metrics.secretWritten()
		if !adopted {
			c.log().Info("adopted an add-on Secret: refreshed in place from now on", "namespace", ns, "secret", name)
		}
	}
	return nil
}

// addonScan is what one listing of a namespace's add-on Secrets found, and at which generation.
type addonScan struct {
	gen   uint64
	names []string
}

// scanAddonSecrets lists the namespace's dockerconfigjson Secrets named like the add-on's, once per
// generation (c.scanGen, advanced by enqueueAll); in between it answers from the last listing.
func (c *Controller) scanAddonSecrets(ctx context.Context, ns string) ([]string, error) {
	c.mu.Lock()
	gen := c.scanGen
	last, ok := c.scans[ns]
	c.mu.Unlock()
	if ok && last.gen == gen {
		return last.names, nil
	}
	list, err := c.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("type", string(corev1.SecretTypeDockerConfigJson)).String(),
	})
	if apierrors.IsForbidden(err) {
		// An older migration grant (get and update only): the Secrets service accounts name are
		// still adopted, and the namespace is reconciled; the fix is said once.
		c.once("scan-forbidden", func() {
			c.log().Warn("cannot list Secrets to find the add-on's that only workloads name: apply controller/deploy/migration/ again (it grants list)", "namespace", ns, "error", err.Error())
		})
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the dockerconfigjson Secrets of %s for the add-on's: %w", ns, err)
	}
	var names []string
	for _, sec := range list.Items {
		if addonSecretName.MatchString(sec.Name) && sec.Type == corev1.SecretTypeDockerConfigJson {
			names = append(names, sec.Name)
		}
	}
	c.mu.Lock()
	if c.scans == nil {
		c.scans = map[string]addonScan{}
	}
	c.scans[ns] = addonScan{gen: gen, names: names}
	c.mu.Unlock()
	return names, nil
}

// forgetScan drops a namespace's listing (it is gone, or no longer watched).
func (c *Controller) forgetScan(ns string) {
	c.mu.Lock()
	delete(c.scans, ns)
	c.mu.Unlock()
}

// adoptable says why an unlabelled Secret is not the add-on's for these registries ("" if it is).
func adoptable(sec *corev1.Secret, ours dockerConfig) string {
	if sec.Type != corev1.SecretTypeDockerConfigJson {
		return "its type is " + string(sec.Type) + ", not kubernetes.io/dockerconfigjson"
	}
	if len(sec.Data) != 1 {
		return "it holds other keys than .dockerconfigjson"
	}
	var theirs dockerConfig
	if err := json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &theirs); err != nil || len(theirs.Auths) == 0 {
		return "its .dockerconfigjson holds no auths"
	}
	var foreign []string
	for h := range theirs.Auths {
		if _, ok := ours.Auths[h]; !ok {
			foreign = append(foreign, h)
		}
	}
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return fmt.Sprintf("it holds hosts no configured registry serves: %v", foreign)
	}
	return ""
}

// once runs f the first time key is seen.
func (c *Controller) once(key string, f func()) {
	c.mu.Lock()
	if c.said == nil {
		c.said = map[string]bool{}
	}
	seen := c.said[key]
	c.said[key] = true
	c.mu.Unlock()
	if !seen {
		f()
	}
}
