package webhook

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Configuration is what the controller keeps current in its MutatingWebhookConfiguration (shipped
// in deploy/webhook/; the controller may only get and update it, by name).
type Configuration struct {
	Name           string
	CABundle       []byte
	FailurePolicy  string // Ignore or Fail
	TimeoutSeconds int32
	// URL, if set, replaces the Service reference (tests: the API server calls a loopback URL).
	URL string
}

// Sync updates the webhooks of the configuration; it reports whether anything changed.
func Sync(ctx context.Context, client kubernetes.Interface, want Configuration) (bool, error) {
	api := client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	mwc, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, fmt.Errorf("the MutatingWebhookConfiguration %s does not exist: apply deploy/webhook/ (the controller updates it but may not create one)", want.Name)
	}
	if err != nil {
		return false, err
	}
	upd := mwc.DeepCopy()
	fp := admissionregistrationv1.FailurePolicyType(want.FailurePolicy)
	for i := range upd.Webhooks {
		h := &upd.Webhooks[i]
		h.ClientConfig.CABundle = want.CABundle
		h.FailurePolicy = &fp
		t := want.TimeoutSeconds
		h.TimeoutSeconds = &t
		if want.URL != "" {
			u := want.URL
			h.ClientConfig.URL, h.ClientConfig.Service = &u, nil
		}
	}
	if same(mwc, upd) {
		return false, nil
	}
	if _, err := api.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("updating the MutatingWebhookConfiguration %s: %w", want.Name, err)
	}
	return true, nil
}

func same(a, b *admissionregistrationv1.MutatingWebhookConfiguration) bool {
	if len(a.Webhooks) != len(b.Webhooks) {
		return false
	}
	for i := range a.Webhooks {
		x, y := a.Webhooks[i], b.Webhooks[i]
		if !bytes.Equal(x.ClientConfig.CABundle, y.ClientConfig.CABundle) || !eq(x.FailurePolicy, y.FailurePolicy) ||
			!eq(x.TimeoutSeconds, y.TimeoutSeconds) || !eq(x.ClientConfig.URL, y.ClientConfig.URL) || (x.ClientConfig.Service == nil) != (y.ClientConfig.Service == nil) {
			return false
		}
	}
	return true
}

func eq[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
