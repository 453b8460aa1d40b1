package credhelper

// Per-workload identity (KEP-4412, Kubernetes 1.34+). With tokenAttributes in the kubelet's
// config, the request carries a service-account token bound to the pod (audience
// sts.aliyuncs.com by default) and the service account's annotations. The RAM role comes from
// the annotation docker-credential-acr.alibabacloud.com/role-arn (a full role ARN), or from ACK's
// pod-identity.alibabacloud.com/role-name (a role name in the account of the OIDC provider). The
// OIDC provider ARN of the cluster comes from DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN (set it in
// the provider's env in the kubelet config; print-kubelet-config does) or
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN. The token is exchanged for the role's STS credentials with
// AssumeRoleWithOIDC, which then take the place of the node's credentials for the rest of the
// usual path (role hops of the config, token API). Logins stored with `docker login` on the node
// are not used for workloads: they belong to the node.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// WorkloadIdentityError means a request with a service-account token cannot be served: no role
// annotation, or no OIDC provider configured. Its message names the fix.
type WorkloadIdentityError struct{ Msg string }

func (e *WorkloadIdentityError) Error() string {
	return "kubelet credential provider (Alibaba Cloud ACR), service-account token: " + e.Msg
}

// Compiled on first use, not at package initialisation: every docker `get` starts a process, and
// compiling these (counted repetitions expand) cost a millisecond of each start.
var (
	reProviderARN = lazyRegexp(`^acs:ram::([0-9]{1,32}):oidc-provider/[A-Za-z0-9._-]{1,128}$`)
	reRoleARN     = lazyRegexp(`^acs:ram::[0-9]{1,32}:role/[A-Za-z0-9.@_-]{1,64}$`)
	reRoleName    = lazyRegexp(`^[A-Za-z0-9.@_-]{1,64}$`)
	reSANamePart  = lazyRegexp(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
)

// oidcProviderARN is the cluster's RAM OIDC provider from the environment
// (DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN, else ALIBABA_CLOUD_OIDC_PROVIDER_ARN).
func oidcProviderARN() string {
	if v := strings.TrimSpace(os.Getenv(kubeletapi.EnvOIDCProviderARN)); v != "" {
		return v
	}
	return strings.TrimSpace(os.Getenv(kubeletapi.EnvAlibabaOIDCProviderARN))
}

// forWorkload is k with the workload's identity: the role of the service account, assumed with
// its token; cached apart from the node's and other service accounts' tokens.
func (k *Keychain) forWorkload(req kubeletapi.Request) (*Keychain, error) {
	provider := oidcProviderARN()
	if provider == "" {
		return nil, &WorkloadIdentityError{Msg: "no OIDC provider configured: set " + kubeletapi.EnvOIDCProviderARN +
			" to the cluster's RAM OIDC provider (acs:ram::<account>:oidc-provider/<name>) in the env of the provider in the kubelet's CredentialProviderConfig"}
	}
	m := reProviderARN().FindStringSubmatch(provider)
	if m == nil {
		return nil, &WorkloadIdentityError{Msg: fmt.Sprintf("%s=%q is not an OIDC provider ARN: want acs:ram::<account>:oidc-provider/<name>", kubeletapi.EnvOIDCProviderARN, truncate(provider))}
	}
	role, err := workloadRole(req.ServiceAccountAnnotations, m[1])
	if err != nil {
		return nil, err
	}
	sa := serviceAccountOf(req.ServiceAccountToken)
	c := *k
	c.Logins = nil // `docker login` credentials of the node are not the workload's
	c.Credentials = &sts.OIDC{RoleARN: role, ProviderARN: provider, Token: req.ServiceAccountToken, SessionName: sessionName(sa)}
	// The chain's identity already holds a digest of the token; the scope keeps the service
	// account and role apart in the cache even so.
	c.CacheScope = "kubelet-sa\x00" + sa + "\x00" + role + "\x00" + provider
	return &c, nil
}

// workloadRole finds the role ARN in the service account's annotations.
func workloadRole(ann map[string]string, account string) (string, error) {
	var arn, fromName string
	if v, ok := ann[kubeletapi.AnnotationRoleARN]; ok {
		v = strings.TrimSpace(v)
		if !reRoleARN().MatchString(v) {
			return "", &WorkloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role ARN: want acs:ram::<account>:role/<name>", kubeletapi.AnnotationRoleARN, truncate(v))}
		}
		arn = v
	}
	if v, ok := ann[kubeletapi.AnnotationACKRoleName]; ok {
		v = strings.TrimSpace(v)
		switch {
		case reRoleARN().MatchString(v):
			fromName = v
		case reRoleName().MatchString(v):
			fromName = "acs:ram::" + account + ":role/" + v
		default:
			return "", &WorkloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role name", kubeletapi.AnnotationACKRoleName, truncate(v))}
		}
	}
	switch {
	case arn != "" && fromName != "" && !strings.EqualFold(arn, fromName):
		return "", &WorkloadIdentityError{Msg: fmt.Sprintf("the service account's annotations name two roles: %s=%s and %s (%s): keep one", kubeletapi.AnnotationRoleARN, arn, kubeletapi.AnnotationACKRoleName, fromName)}
	case arn != "":
		return arn, nil
	case fromName != "":
		return fromName, nil
	}
	return "", &WorkloadIdentityError{Msg: fmt.Sprintf("the request carries a service-account token but the service account names no RAM role: annotate it with %s: acs:ram::<account>:role/<name> (or ACK's %s: <role name>), and list the annotation in tokenAttributes of the kubelet's CredentialProviderConfig (see print-kubelet-config)", kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName)}
}

// serviceAccountOf reads "<namespace>/<name>" from the token's subject
// (system:serviceaccount:<namespace>:<name>) without verifying it, or "" if it cannot: it only
// names the session and the cache scope; STS verifies the token.
func serviceAccountOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	rest, ok := strings.CutPrefix(claims.Sub, "system:serviceaccount:")
	if !ok {
		return ""
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || !reSANamePart().MatchString(ns) || !reSANamePart().MatchString(name) {
		return ""
	}
	return ns + "/" + name
}

// sessionName is the RoleSessionName that names the workload in ActionTrail:
// "k8s.<namespace>.<name>", at most 64 characters of [A-Za-z0-9.@_-].
func sessionName(sa string) string {
	if sa == "" {
		return "docker-credential-acr-kubelet"
	}
	s := "k8s." + strings.ReplaceAll(sa, "/", ".")
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.TrimRight(s, ".-")
}

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
