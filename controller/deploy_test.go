package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/release"
)

// readManifests decodes every object of the YAML files in dir.
func readManifests(dir string) ([]runtime.Object, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var objs []runtime.Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

// applyManifests creates the objects of deploy/ as they are; the real API server validates them.
func applyManifests(ctx context.Context, c kubernetes.Interface, dir string) error {
	objs, err := readManifests(dir)
	if err != nil {
		return err
	}
	opts := metav1.CreateOptions{}
	for _, obj := range objs {
		var err error
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			_, err = c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, opts)
		case *corev1.ConfigMap:
			_, err = c.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, opts)
		case *rbacv1.ClusterRole:
			_, err = c.RbacV1().ClusterRoles().Create(ctx, o, opts)
		case *rbacv1.ClusterRoleBinding:
			_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, o, opts)
		case *rbacv1.Role:
			_, err = c.RbacV1().Roles(o.Namespace).Create(ctx, o, opts)
		case *rbacv1.RoleBinding:
			_, err = c.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, opts)
		case *appsv1.Deployment:
			_, err = c.AppsV1().Deployments(o.Namespace).Create(ctx, o, opts)
		case *corev1.Service:
			_, err = c.CoreV1().Services(o.Namespace).Create(ctx, o, opts)
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			_, err = c.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, o, opts)
		case *admissionregistrationv1.ValidatingAdmissionPolicy:
			_, err = c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, o, opts)
		case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			_, err = c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, o, opts)
		default:
			err = fmt.Errorf("unexpected %T in deploy/", obj)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// The Deployment names the service account the RBAC binds, passes the pod name for the Lease, and
// runs the image the release builds.
func TestDeployManifests(t *testing.T) {
	objs, err := readManifests("deploy")
	must(t, err)
	var dep *appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			dep = d
		}
	}
	if dep == nil {
		t.Fatal("no Deployment in deploy/")
	}
	spec := dep.Spec.Template.Spec
	if spec.ServiceAccountName != ctrlSA || dep.Namespace != ctrlNS {
		t.Errorf("Deployment runs as %s/%s, want %s/%s", dep.Namespace, spec.ServiceAccountName, ctrlNS, ctrlSA)
	}
	c := spec.Containers[0]
	if c.Image != release.ImageRef {
		t.Errorf("Deployment image %q, want the release's %q (hack/ociimage)", c.Image, release.ImageRef)
	}
	podName := false
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
	}
	if !podName {
		t.Error("Deployment does not pass POD_NAME from the downward API: the Lease holder would be the hostname")
	}
	if !slices.Contains(c.Args, "--namespace="+ctrlNS) {
		t.Errorf("args %v do not name the Lease namespace", c.Args)
	}
	// RRSA: a projected token with the STS audience, mounted where ALIBABA_CLOUD_OIDC_TOKEN_FILE says.
	var tokenFile string
	for _, e := range c.Env {
		if e.Name == "ALIBABA_CLOUD_OIDC_TOKEN_FILE" {
			tokenFile = e.Value
		}
	}
	projected := false
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if st := src.ServiceAccountToken; st != nil && st.Audience == "sts.aliyuncs.com" {
				for _, m := range c.VolumeMounts {
					if m.Name == v.Name && m.MountPath+"/"+st.Path == tokenFile {
						projected = true
					}
				}
			}
		}
	}
	if !projected {
		t.Errorf("no projected token with audience sts.aliyuncs.com at ALIBABA_CLOUD_OIDC_TOKEN_FILE (%q)", tokenFile)
	}
	for _, p := range c.Ports {
		if p.Name == "webhook" && p.ContainerPort != 9443 {
			t.Errorf("webhook port %d, want the controller's default 9443", p.ContainerPort)
		}
	}
}

// The RBAC is minimal: the controller's service account may not read other Secrets, update
// service accounts, or touch other Leases.
func TestRBACIsMinimal(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	sub := "system:serviceaccount:" + ctrlNS + ":" + ctrlSA
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ctrlNS, "system:authenticated"}
	check := func(want bool, verb, group, resource, ns, name string) {
		t.Helper()
		r, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User: sub, Groups: groups,
			ResourceAttributes: &authv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: ns, Name: name},
		}}, metav1.CreateOptions{})
		must(t, err)
		if r.Status.Allowed != want {
			t.Errorf("%s %s %s/%s allowed=%v, want %v", verb, resource, ns, name, r.Status.Allowed, want)
		}
	}
	check(true, "patch", "", "serviceaccounts", "team", "default")
	check(false, "update", "", "serviceaccounts", "team", "default")
	check(false, "get", "", "serviceaccounts", "team", "default")
	check(true, "update", "", "secrets", "team", secretName)
	check(false, "get", "", "secrets", "team", "someone-elses")
	check(false, "list", "", "secrets", "team", "")
	check(false, "delete", "", "secrets", "team", "someone-elses")
	check(true, "update", "coordination.k8s.io", "leases", ctrlNS, "acr-credential-controller")
	check(false, "update", "coordination.k8s.io", "leases", ctrlNS, "kube-scheduler")
	check(false, "create", "coordination.k8s.io", "leases", "team", "")
	check(false, "delete", "", "namespaces", "", "team")
}
