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
	"k8s.io/apimachinery/pkg/labels"
)

// Migration from the ACK add-on (opt-in, Controller.Adopt): the add-on leaves Secrets named
// acr-credential-<32 hex> that service accounts (and sometimes workloads, directly) name. Once the
// add-on is gone nobody refreshes them. The controller adopts such a Secret in a watched namespace
// when a service account there names it and it is a kubernetes.io/dockerconfigjson Secret holding
// only hosts the configured registries serve: it labels it as its own and keeps it refreshed in
// place with the same logins as its own Secret, so whatever names it keeps pulling. Anything else
// is left untouched (and said once).

var addonSecretName = regexp.MustCompile(`^acr-credential-[0-9a-f]{32}$`)

// AdoptedAnnotation records where an adopted Secret came from.
const AdoptedAnnotation = "acr-credential-controller.docker-credential-acr.io/adopted-from"

// adopt refreshes the add-on Secrets named by the namespace's service accounts; data is the
// controller's own .dockerconfigjson for the namespace.
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
