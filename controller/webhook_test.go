package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

func refNames(refs []corev1.LocalObjectReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// The webhook against the real kube-apiserver, which calls it over loopback with the caBundle the
// controller wrote: a service account holds the Secret when its creation returns, and a pod
// created right after it gets the Secret from the ServiceAccount admission plugin.
func TestWebhookServiceAccountAtCreation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	createNamespaces(t, "wh-a", "wh-off")
	mwcs := admin.AdmissionregistrationV1().MutatingWebhookConfigurations()
	must(t, applyManifests(ctx, admin, "deploy/webhook"))
	t.Cleanup(func() { // the shared cluster's other tests run without the webhook
		_ = mwcs.Delete(ctx, "acr-credential-controller", metav1.DeleteOptions{})
	})
	cluster := "watchNamespace: wh-a\nserviceAccount: '*'\nwebhook-configuration: |\n  enable: true\n  timeout-seconds: 5"
	w.writeConfig(w.config(cluster, teamEntry))
	r := w.startController(func(o *options) {
		o.WebhookAddr = "127.0.0.1:0"
		o.webhookURL = func(addr string) string { return "https://" + addr + refresh.AdmitPath }
	})
	waitFor(t, "the webhook configuration to carry the controller's CA, Ignore and 5s", func() (bool, string) {
		m, err := mwcs.Get(ctx, "acr-credential-controller", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		h := m.Webhooks[0]
		ok := len(h.ClientConfig.CABundle) > 0 && h.ClientConfig.URL != nil && *h.FailurePolicy == admissionregistrationv1.Ignore && *h.TimeoutSeconds == 5
		return ok, fmt.Sprintf("bundle %d bytes, policy %v, timeout %v", len(h.ClientConfig.CABundle), *h.FailurePolicy, *h.TimeoutSeconds)
	})
	tls, err := admin.CoreV1().Secrets(ctrlNS).Get(ctx, "acr-credential-controller-webhook-tls", metav1.GetOptions{})
	must(t, err)
	if tls.Type != corev1.SecretTypeTLS || tls.Labels[refresh.ManagedByLabel] != refresh.ManagedByValue {
		t.Errorf("certificate Secret type %q labels %v", tls.Type, tls.Labels)
	}
	// The API server reads webhook configurations from its own cache: wait until it calls ours.
	probe := 0
	waitFor(t, "the API server to call the webhook", func() (bool, string) {
		probe++
		sa, err := admin.CoreV1().ServiceAccounts("wh-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%d", probe)}}, metav1.CreateOptions{})
		if err != nil {
			return false, err.Error()
		}
		return slices.Contains(refNames(sa.ImagePullSecrets), secretName), fmt.Sprint(refNames(sa.ImagePullSecrets))
	})

	var took []time.Duration
	for i := range 20 {
		name := fmt.Sprintf("app-%d", i)
		start := time.Now()
		sa, err := admin.CoreV1().ServiceAccounts("wh-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "theirs"}}}, metav1.CreateOptions{})
		must(t, err)
		took = append(took, time.Since(start))
		if got := refNames(sa.ImagePullSecrets); !slices.Equal(got, []string{"theirs", secretName}) {
			t.Errorf("%s as created lists %v, want [theirs %s]", name, got, secretName)
		}
		no := false
		pod, err := admin.CoreV1().Pods("wh-a").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			ServiceAccountName: name, AutomountServiceAccountToken: &no,
			Containers: []corev1.Container{{Name: "app", Image: "team-registry.cn-hangzhou.cr.aliyuncs.com/team/app:1"}},
		}}, metav1.CreateOptions{})
		must(t, err)
		if got := refNames(pod.Spec.ImagePullSecrets); !slices.Contains(got, secretName) {
			t.Errorf("pod %s created right after its service account pulls with %v, want %s among them", name, got, secretName)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("FIGURE: service account create with the webhook: median %v (20 creations); the Secret is listed when the call returns", took[len(took)/2].Round(100*time.Microsecond))

	// Unwatched namespace: nothing added.
	sa, err := admin.CoreV1().ServiceAccounts("wh-off").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{})
	must(t, err)
	if len(sa.ImagePullSecrets) != 0 {
		t.Errorf("a service account in an unwatched namespace got %v", refNames(sa.ImagePullSecrets))
	}
	if !strings.Contains(r.logs.String(), "webhook: added the pull secret") {
		t.Error("the webhook's patches are not logged")
	}

	// The config's failure policy reaches the configuration.
	w.writeConfig(w.config(strings.Replace(cluster, "enable: true", "enable: true\n  failure-policy: Fail", 1), teamEntry))
	waitFor(t, "failurePolicy Fail in the configuration", func() (bool, string) {
		m, err := mwcs.Get(ctx, "acr-credential-controller", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return *m.Webhooks[0].FailurePolicy == admissionregistrationv1.Fail, string(*m.Webhooks[0].FailurePolicy)
	})
}

// Without the webhook the controller's loop lists the Secret in a new service account: how long
// that takes is a figure, not an assertion.
func TestServiceAccountWithoutWebhook(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	createNamespaces(t, "nowh-a")
	w.writeConfig(w.config("watchNamespace: nowh-a\nserviceAccount: '*'", teamEntry))
	w.startController(nil)
	waitFor(t, "the Secret in nowh-a", func() (bool, string) {
		a, _ := secretAuths(t, "nowh-a")
		return a != nil, ""
	})
	var took []time.Duration
	for i := range 10 {
		name := fmt.Sprintf("late-%d", i)
		start := time.Now()
		_, err := admin.CoreV1().ServiceAccounts("nowh-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		must(t, err)
		for !slices.Contains(pullSecrets(t, "nowh-a", name), secretName) {
			if time.Since(start) > 3*time.Minute {
				t.Fatalf("%s never listed the Secret", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("FIGURE: new service account lists the Secret without the webhook: median %v, max %v (10 creations)", took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}
