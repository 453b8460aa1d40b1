package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

// The ValidatingAdmissionPolicy of deploy/ against the real kube-apiserver: the controller's
// account, which RBAC lets create any Secret, cannot create a service-account token Secret under
// its own Secret's name (cluster-admin by one indirection), nor an unlabelled or otherwise named
// pull Secret; its own Secret is allowed.
func TestPolicyRefusesOtherSecrets(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	createNamespaces(t, "vap-a")
	as, err := kubernetes.NewForConfig(impersonating())
	must(t, err)
	label := map[string]string{refresh.ManagedByLabel: refresh.ManagedByValue}
	dockercfg := map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}
	create := func(s *corev1.Secret) error {
		_, err := as.CoreV1().Secrets("vap-a").Create(ctx, s, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	// The policy is loaded by the API server asynchronously: wait until it refuses the token Secret.
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Labels: label,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
	waitFor(t, "the policy to refuse a service-account token Secret", func() (bool, string) {
		err := create(token)
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "may write only its own pull Secrets"), errString(err)
	})
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: secretName}, Type: corev1.SecretTypeDockerConfigJson, Data: dockercfg},                        // unlabelled
		{ObjectMeta: metav1.ObjectMeta{Name: secretName, Labels: label}, Type: corev1.SecretTypeOpaque, Data: dockercfg},                   // another type
		{ObjectMeta: metav1.ObjectMeta{Name: "acr-credential-x", Labels: label}, Type: corev1.SecretTypeDockerConfigJson, Data: dockercfg}, // another name
	} {
		if err := create(s); !apierrors.IsForbidden(err) {
			t.Errorf("%s (%s, labels %v): %v, want refused", s.Name, s.Type, s.Labels, err)
		}
	}
	for _, name := range []string{secretName, "acr-credential-0123456789abcdef0123456789abcdef"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: label}, Type: corev1.SecretTypeDockerConfigJson, Data: dockercfg}
		if err := create(s); err != nil {
			t.Errorf("its own pull Secret %s refused: %v", name, err)
		}
	}
	// Anyone else is not concerned by the policy.
	if _, err := admin.CoreV1().Secrets("vap-a").Create(ctx, token, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the policy reached another user: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}
