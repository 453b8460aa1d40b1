package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

const (
	addonSecret   = "acr-credential-0123456789abcdef0123456789abcdef" // the add-on's, for the team instance
	foreignSecret = "acr-credential-fedcba9876543210fedcba9876543210" // the same name shape, holding Docker Hub
	// The add-on's, named by a workload's pod spec only (no service account names it).
	workloadSecret = "acr-credential-00112233445566778899aabbccddeeff"
)

func addonStyleSecret(name string, hosts ...string) *corev1.Secret {
	auths := map[string]pullAuth{}
	for _, h := range hosts {
		auths[h] = pullAuth{Username: "cr_temp_user", Password: "stale", Auth: base64.StdEncoding.EncodeToString([]byte("cr_temp_user:stale"))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}
}

// The README's migration steps against the real kube-apiserver: the add-on's Secrets, one named by a
// service account and one only by a Deployment's pod spec, are adopted and refreshed in place (under
// the migration grant, with the controller's own RBAC); a Secret of the same name shape holding
// another registry is left exactly as it was; each adoption is logged once.
func TestMigrateFromAddon(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t, applyManifests(ctx, admin, "deploy/migration"))
	t.Cleanup(func() {
		_ = admin.RbacV1().ClusterRoleBindings().Delete(ctx, "acr-credential-controller-adopt", metav1.DeleteOptions{})
	})
	createNamespaces(t, "mig-a")
	for _, s := range []*corev1.Secret{
		addonStyleSecret(addonSecret, "team-registry.cn-hangzhou.cr.aliyuncs.com", "team-registry-vpc.cn-hangzhou.cr.aliyuncs.com"),
		addonStyleSecret(foreignSecret, "docker.io"),
		addonStyleSecret(workloadSecret, "team-registry.cn-hangzhou.cr.aliyuncs.com"),
	} {
		if _, err := admin.CoreV1().Secrets("mig-a").Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	createSA(t, "mig-a", "app", addonSecret, foreignSecret)
	createWorkload(t, "mig-a", "direct", workloadSecret)
	foreignBefore, err := admin.CoreV1().Secrets("mig-a").Get(ctx, foreignSecret, metav1.GetOptions{})
	must(t, err)

	w.writeConfig(w.config("watchNamespace: mig-a\nserviceAccount: default,app", teamEntry))
	r := w.startController(func(o *options) { o.AdoptAddonSecrets = true })

	waitFor(t, "the add-on's Secret to carry the controller's logins", func() (bool, string) {
		s, err := admin.CoreV1().Secrets("mig-a").Get(ctx, addonSecret, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		var dc struct{ Auths map[string]pullAuth }
		_ = json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc)
		a := dc.Auths["team-registry.cn-hangzhou.cr.aliyuncs.com"]
		return a.Password != "" && a.Password != "stale" && s.Labels[refresh.ManagedByLabel] == refresh.ManagedByValue, a.Username
	})
	adopted, own := secretAuths(t, "mig-a")
	s, _ := admin.CoreV1().Secrets("mig-a").Get(ctx, addonSecret, metav1.GetOptions{})
	if string(s.Data[corev1.DockerConfigJsonKey]) != string(own.Data[corev1.DockerConfigJsonKey]) {
		t.Errorf("the adopted Secret holds other logins than the controller's own: %v", sortedKeys(adopted))
	}
	if s.Annotations[refresh.AdoptedAnnotation] != "aliyun-acr-credential-helper" {
		t.Errorf("adopted Secret annotations %v", s.Annotations)
	}
	waitFor(t, "the Secret only a Deployment names to carry the controller's logins", func() (bool, string) {
		s, err := admin.CoreV1().Secrets("mig-a").Get(ctx, workloadSecret, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		_, own := secretAuths(t, "mig-a")
		if own == nil || strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), `"stale"`) {
			return false, "still the add-on's stale login"
		}
		return string(s.Data[corev1.DockerConfigJsonKey]) == string(own.Data[corev1.DockerConfigJsonKey]) &&
			s.Labels[refresh.ManagedByLabel] == refresh.ManagedByValue && s.Annotations[refresh.AdoptedAnnotation] == "aliyun-acr-credential-helper", string(s.Data[corev1.DockerConfigJsonKey])
	})
	foreignAfter, err := admin.CoreV1().Secrets("mig-a").Get(ctx, foreignSecret, metav1.GetOptions{})
	must(t, err)
	if foreignAfter.ResourceVersion != foreignBefore.ResourceVersion {
		t.Error("a Secret holding another registry was rewritten")
	}
	waitFor(t, "app to list the controller's Secret after its own", func() (bool, string) {
		got := pullSecrets(t, "mig-a", "app")
		return slices.Equal(got, []string{addonSecret, foreignSecret, secretName}), fmt.Sprint(got)
	})
	// A later refresh (a reload with a new threshold fetches no token; force one by a new entry)
	// keeps the adopted Secret current and logs no second adoption.
	w.writeConfig(w.config("watchNamespace: mig-a\nserviceAccount: default,app", teamEntry+personalEntry))
	for _, name := range []string{addonSecret, workloadSecret} {
		waitFor(t, name+" to follow the new registry", func() (bool, string) {
			s, _ := admin.CoreV1().Secrets("mig-a").Get(ctx, name, metav1.GetOptions{})
			return strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), "registry.cn-hangzhou.aliyuncs.com"), ""
		})
	}
	logs := r.logs.String()
	if n := strings.Count(logs, "adopted an add-on Secret"); n != 2 || !strings.Contains(logs, workloadSecret) {
		t.Errorf("%d adoption log lines, want 2 (one per Secret)", n)
	}
	if n := strings.Count(logs, "not adopting an add-on Secret"); n != 1 || !strings.Contains(logs, "docker.io") {
		t.Errorf("the foreign Secret is not named once in the log (%d lines)", n)
	}
}

// createWorkload makes a Deployment whose pod spec names the pull Secret directly (the apiserver
// stores it; no controller runs its pods).
func createWorkload(t testing.TB, ns, name, pull string) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ImagePullSecrets: []corev1.LocalObjectReference{{Name: pull}},
					Containers:       []corev1.Container{{Name: "app", Image: "team-registry.cn-hangzhou.cr.aliyuncs.com/team/app:1"}},
				},
			},
		},
	}
	if _, err := admin.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
