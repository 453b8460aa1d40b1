package webhook

import (
	"context"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestSync(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	want := Configuration{Name: "acr-credential-controller", CABundle: []byte("ca"), FailurePolicy: "Ignore", TimeoutSeconds: 7}
	if _, err := Sync(ctx, client, want); err == nil || !strings.Contains(err.Error(), "apply deploy/webhook/") {
		t.Fatalf("a missing configuration: %v", err)
	}
	ignore := admissionregistrationv1.Fail
	_, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: want.Name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "serviceaccounts.example", FailurePolicy: &ignore,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "kube-system", Name: "svc"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, wantChanged := range []bool{true, false} {
		changed, err := Sync(ctx, client, want)
		if err != nil || changed != wantChanged {
			t.Fatalf("sync %d: changed %v, %v; want %v", i, changed, err, wantChanged)
		}
	}
	got, _ := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, want.Name, metav1.GetOptions{})
	h := got.Webhooks[0]
	if string(h.ClientConfig.CABundle) != "ca" || *h.FailurePolicy != admissionregistrationv1.Ignore || *h.TimeoutSeconds != 7 || h.ClientConfig.Service == nil {
		t.Errorf("webhook after sync: %+v", h)
	}
}
