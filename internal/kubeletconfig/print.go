package kubeletconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
)

// write writes a CredentialProviderConfig (YAML) that enables the plugin for every
// ACR default domain and opts.MatchImages, with comments on installing it and, with
// ServiceAccountTokens, the tokenAttributes and, as a comment, the RBAC rule that lets nodes
// request tokens for the audience.
func write(out io.Writer, opts options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	configVersion := configVersionOf(o.APIVersion)

	w("# Kubelet image credential provider for Alibaba Cloud Container Registry (ACR): docker-credential-acr.\n")
	w("#\n")
	w("# 1. Install docker-credential-acr in the kubelet's --image-credential-provider-bin-dir under the\n")
	w("#    name %s (a copy or a symlink).\n", o.Name)
	w("# 2. Save this file (e.g. /etc/kubernetes/acr-credential-provider.yaml) and start the kubelet with\n")
	w("#    --image-credential-provider-config=<this file> --image-credential-provider-bin-dir=<that dir>.\n")
	w("# 3. Custom domains of Enterprise instances: add them to matchImages (--match-image) and to the\n")
	w("#    helper's config file. The node's credentials are the helper's usual ones (ECS RAM role, ...).\n")
	if o.ServiceAccountTokens {
		w("# 4. Per-workload identity: the kubelet hands the plugin a service-account token for the\n")
		w("#    audience %s and these annotations of the service account:\n", o.Audience)
		w("#      %s: a RAM role ARN, acs:ram::<account>:role/<name>\n", kubeletapi.AnnotationRoleARN)
		w("#      %s: (ACK's) a RAM role name in the OIDC provider's account\n", kubeletapi.AnnotationACKRoleName)
		w("#    The role's trust policy must trust the OIDC provider below for the subject\n")
		w("#    system:serviceaccount:<namespace>:<name>, and the provider must list %s\n", o.Audience)
		w("#    as a client id.\n")
		if o.RequireRoleAnnotation {
			w("#    Pods whose service account lacks %s\n", o.RoleAnnotation)
			w("#    get no credentials from this provider (--require-role-annotation).\n")
		} else {
			w("#    Pods whose service account names no role keep the node's identity.\n")
		}
	}
	w("apiVersion: %s\n", configVersion)
	w("kind: CredentialProviderConfig\n")
	w("providers:\n")
	w("  - name: %s\n", yamlString(o.Name))
	w("    apiVersion: %s\n", yamlString(o.APIVersion))
	w("    args:\n      - kubelet\n")
	w("    matchImages:\n")
	for _, m := range o.MatchImages {
		w("      - %s\n", yamlString(m))
	}
	w("    defaultCacheDuration: %s\n", yamlString(o.DefaultCacheDuration.String()))
	if o.ServiceAccountTokens {
		w("    tokenAttributes:\n")
		w("      serviceAccountTokenAudience: %s\n", yamlString(o.Audience))
		w("      # The answer depends only on the service account (its role), not on the pod.\n")
		w("      cacheType: ServiceAccount\n")
		required, optional := []string(nil), []string{kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName}
		if o.RequireRoleAnnotation {
			required, optional = []string{o.RoleAnnotation}, nil
			for _, k := range []string{kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName} {
				if k != o.RoleAnnotation {
					optional = append(optional, k)
				}
			}
		}
		w("      requireServiceAccount: %t\n", o.RequireRoleAnnotation)
		if len(required) > 0 {
			w("      requiredServiceAccountAnnotationKeys:\n")
			for _, k := range required {
				w("        - %s\n", yamlString(k))
			}
		}
		w("      optionalServiceAccountAnnotationKeys:\n")
		for _, k := range optional {
			w("        - %s\n", yamlString(k))
		}
		w("    env:\n")
		w("      - name: %s\n", kubeletapi.EnvOIDCProviderARN)
		w("        value: %s\n", yamlString(o.OIDCProviderARN))
		w("#\n")
		w("# Nodes may request service-account tokens only for audiences that pods on them already use\n")
		w("# (ServiceAccountNodeAudienceRestriction, on by default since Kubernetes 1.33). Allow the\n")
		w("# audience once per cluster: remove the leading \"# \" of the lines after the next one, and\n")
		w("# kubectl apply them.\n")
		w("# %s\n", kubeletRBACMarker)
		rbac := []string{
			"apiVersion: rbac.authorization.k8s.io/v1",
			"kind: ClusterRole",
			"metadata:",
			"  name: " + kubeletRBACName,
			"rules:",
			"  - apiGroups: [\"\"]",
			"    resources: [" + yamlString(o.Audience) + "]",
			"    verbs: [\"request-serviceaccounts-token-audience\"]",
			"---",
			"apiVersion: rbac.authorization.k8s.io/v1",
			"kind: ClusterRoleBinding",
			"metadata:",
			"  name: " + kubeletRBACName,
			"roleRef:",
			"  apiGroup: rbac.authorization.k8s.io",
			"  kind: ClusterRole",
			"  name: " + kubeletRBACName,
			"subjects:",
			"  - apiGroup: rbac.authorization.k8s.io",
			"    kind: Group",
			"    name: system:nodes",
		}
		for _, l := range rbac {
			w("# %s\n", l)
		}
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// configVersionOf is the config's apiVersion for a provider apiVersion: the same version in
// kubelet.config.k8s.io.
func configVersionOf(providerAPIVersion string) string {
	return "kubelet.config.k8s.io/" + providerAPIVersion[strings.LastIndexByte(providerAPIVersion, '/')+1:]
}

// kubeletRBACMarker starts the commented RBAC manifests in write's output.
const kubeletRBACMarker = "RBAC for the nodes:"

// kubeletRBACName names the ClusterRole and ClusterRoleBinding of the audience.
const kubeletRBACName = "docker-credential-acr-kubelet-audience"

// yamlString quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
