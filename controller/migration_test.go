package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

const (
	addonSecret   = "acr-credential-0123456789abcdef0123456789abcdef" // the add-on's, for the team instance
	foreignSecret = "acr-credential-fedcba9876543210fedcba9876543210" // the same name shape, holding Docker Hub
)

func addonStyleSecret(name string, hosts ...string) *corev1.Secret {
	auths := map[string]pullAuth{}
	for _, h := range hosts {
		auths[h] = pullAuth{Username: "cr_temp_user", Password: "stale", Auth: base64.StdEncoding.EncodeToString([]byte("cr_temp_user:stale"))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}
}

// The README's migration steps against the real kube-apiserver: the add-on's Secret named by a
// service account (and by a workload directly) is adopted and refreshed in place; a Secret of the
// same name shape holding another registry is left exactly as it was; each adoption is logged once.
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
	} {
		if _, err := admin.CoreV1().Secrets("mig-a").Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	createSA(t, "mig-a", "app", addonSecret, foreignSecret)
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
	waitFor(t, "the adopted Secret to follow the new registry", func() (bool, string) {
		s, _ := admin.CoreV1().Secrets("mig-a").Get(ctx, addonSecret, metav1.GetOptions{})
		return strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), "registry.cn-hangzhou.aliyuncs.com"), ""
	})
	logs := r.logs.String()
	if n := strings.Count(logs, "adopted an add-on Secret"); n != 1 {
		t.Errorf("%d adoption log lines, want 1", n)
	}
	if n := strings.Count(logs, "not adopting an add-on Secret"); n != 1 || !strings.Contains(logs, "docker.io") {
		t.Errorf("the foreign Secret is not named once in the log (%d lines)", n)
	}
}
