package refresh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// reconcile brings one namespace to what the settings and tokens say: in a watched namespace the
// Secret holds every registry's login and each selected service account lists it once; elsewhere
// (or with no registry configured) what the controller added is taken away, nothing else.
func (c *Controller) reconcile(ctx context.Context, ns string) error {
	s, tokens := c.snapshot()
	nsObj, err := c.namespaces.Get(ns)
	if apierrors.IsNotFound(err) {
		c.forgetScan(ns)
		return nil // gone: its Secret and service accounts go with it
	}
	if err != nil {
		return err
	}
	name := c.secretName()
	current, err := c.secrets.Secrets(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if apierrors.IsNotFound(err) {
		current = nil
	}
	if nsObj.Status.Phase == corev1.NamespaceTerminating {
		return nil // nothing can be created there, and everything goes anyway
	}
	if !s.watches(ns) || len(s.Registries) == 0 {
		c.forgetScan(ns)
		if err := c.detachAll(ctx, ns); err != nil {
			return err
		}
		if current != nil {
			err := c.Client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &current.UID}})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			c.log().Info("removed the pull secret", "namespace", ns)
		}
		return nil
	}
	var cur []byte
	if current != nil {
		cur = current.Data[corev1.DockerConfigJsonKey]
	}
	data, ok := dockerConfigJSON(s.Registries, tokens, s.Email, cur)
	if !ok {
		return nil // no login yet: the refresh loop requeues when one comes
	}
	if err := c.ensureSecret(ctx, ns, current, data); err != nil {
		return err
	}
	if c.Adopt {
		if err := c.adopt(ctx, ns, data); err != nil {
			return err
		}
	}
	return c.attach(ctx, ns, &s)
}

func (c *Controller) ensureSecret(ctx context.Context, ns string, current *corev1.Secret, data []byte) error {
	name := c.secretName()
	if current == nil {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{ManagedByLabel: ManagedByValue}},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: data},
		}
		_, err := c.Client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{FieldManager: ManagedByValue})
		if apierrors.IsAlreadyExists(err) {
			if got, gerr := c.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); gerr == nil && got.Labels[ManagedByLabel] == ManagedByValue {
				return fmt.Errorf("the Secret %s/%s is not in the cache yet", ns, name) // retried
			}
			return fmt.Errorf("a Secret %s/%s exists that this controller did not make (it lacks the label %s=%s): rename it, or start the controller with another --secret-name", ns, name, ManagedByLabel, ManagedByValue)
		}
		if err == nil {
			c.Metrics.secretWritten()
		}
		return err
	}
	if current.Type == corev1.SecretTypeDockerConfigJson && bytes.Equal(current.Data[corev1.DockerConfigJsonKey], data) && len(current.Data) == 1 {
		return nil
	}
	if current.Type != corev1.SecretTypeDockerConfigJson { // the type is immutable
		if err := c.Client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &current.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return c.ensureSecret(ctx, ns, nil, data)
	}
	upd := current.DeepCopy()
	upd.Data = map[string][]byte{corev1.DockerConfigJsonKey: data}
	_, err := c.Client.CoreV1().Secrets(ns).Update(ctx, upd, metav1.UpdateOptions{FieldManager: ManagedByValue})
	if err == nil {
		c.Metrics.secretWritten()
	}
	return err
}

// attach lists the Secret once in every selected service account, and takes it out of the others.
func (c *Controller) attach(ctx context.Context, ns string, s *Settings) error {
	list, err := c.accounts.ServiceAccounts(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, sa := range list {
		want := 0
		if s.selects(sa.Name) {
			want = 1
		}
		if !c.Adopt {
			for _, r := range sa.ImagePullSecrets {
				if addonSecretName.MatchString(r.Name) {
					c.once("stale/"+ns+"/"+sa.Name+"/"+r.Name, func() {
						c.log().Warn("a service account names a Secret of the ACK add-on, which nobody refreshes once the add-on is gone: start the controller with --adopt-addon-secrets (README: Switching from the ACK add-on)",
							"namespace", ns, "serviceAccount", sa.Name, "secret", r.Name)
					})
				}
			}
		}
		if err := c.patchRefs(ctx, sa, want); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) detachAll(ctx context.Context, ns string) error {
	list, err := c.accounts.ServiceAccounts(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, sa := range list {
		if err := c.patchRefs(ctx, sa, 0); err != nil {
			return err
		}
	}
	return nil
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// AddedAnnotation marks a service account whose imagePullSecrets entry of the Secret (named by
// its value) the controller added: only such an entry is ever taken away again, so a reference
// someone else wrote to a Secret of the same name stays.
const AddedAnnotation = "acr-credential-controller.docker-credential-acr.io/added"

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// patchRefs makes the service account list the Secret want (0 or 1) times with a JSON patch that
// touches only those entries: imagePullSecrets has no merge key, so a strategic-merge patch would
// replace the whole list. An entry is added with AddedAnnotation, and taken away only where that
// annotation says the controller added it. The patch first tests the resourceVersion it was
// computed from, so a concurrent change fails it (and the namespace is retried) instead of being
// overwritten. Every patch is logged.
func (c *Controller) patchRefs(ctx context.Context, sa *corev1.ServiceAccount, want int) error {
	name := c.secretName()
	var idx []int
	for i, ref := range sa.ImagePullSecrets {
		if ref.Name == name {
			idx = append(idx, i)
		}
	}
	ours := sa.Annotations[AddedAnnotation] == name
	if len(idx) == want || (want == 0 && !ours) {
		return nil // as wanted, or a reference the controller did not add: not its to take
	}
	ops := []patchOp{{Op: "test", Path: "/metadata/resourceVersion", Value: sa.ResourceVersion}}
	annotation := "/metadata/annotations/" + escapePointer(AddedAnnotation)
	action := "added the pull secret"
	switch {
	case len(idx) < want:
		if sa.ImagePullSecrets == nil {
			ops = append(ops, patchOp{Op: "add", Path: "/imagePullSecrets", Value: []corev1.LocalObjectReference{{Name: name}}})
		} else {
			ops = append(ops, patchOp{Op: "add", Path: "/imagePullSecrets/-", Value: corev1.LocalObjectReference{Name: name}})
		}
		if sa.Annotations == nil {
			ops = append(ops, patchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{AddedAnnotation: name}})
		} else {
			ops = append(ops, patchOp{Op: "add", Path: annotation, Value: name})
		}
	default: // remove the extra ones, last first so that the indexes stay right
		for i := len(idx) - 1; i >= want; i-- {
			ops = append(ops, patchOp{Op: "remove", Path: fmt.Sprintf("/imagePullSecrets/%d", idx[i])})
		}
		action = "removed a duplicate pull secret entry"
		if want == 0 {
			ops = append(ops, patchOp{Op: "remove", Path: annotation})
			action = "removed the pull secret it had added"
		}
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	_, err = c.Client.CoreV1().ServiceAccounts(sa.Namespace).Patch(ctx, sa.Name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: ManagedByValue})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("patching service account %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	c.log().Info("service account patched: "+action, "namespace", sa.Namespace, "serviceAccount", sa.Name, "secret", name)
	c.Metrics.accountPatched()
	return nil
}
