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
	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"regexp"
	"strings"
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// workloadIdentityError means a request with a service-account token cannot be served: no role
// annotation, or no OIDC provider configured. Its message names the fix.
type workloadIdentityError struct{ Msg string }

func (e *workloadIdentityError) Error() string {
	return "kubelet credential provider (Alibaba Cloud ACR), service-account token: " + e.Msg
}

// Compiled on first use, not at package initialisation: every docker `get` starts a process, and
// compiling these (counted repetitions expand) cost a millisecond of each start.
var (
	reRoleName   = lazyRegexp(`^[A-Za-z0-9.@_-]{1,64}$`)
	reSANamePart = lazyRegexp(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
)

// oidcProviderARN is the cluster's RAM OIDC provider from the environment
// (DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN, else ALIBABA_CLOUD_OIDC_PROVIDER_ARN).
func oidcProviderARN(k *keychain.Keychain) string {
	if v := strings.TrimSpace(k.Config.Env(kubeletapi.EnvOIDCProviderARN)); v != "" {
		return v
	}
	return strings.TrimSpace(k.Config.Env(kubeletapi.EnvAlibabaOIDCProviderARN))
}

// forWorkload is k with the workload's identity: the role of the service account, assumed with
// its token; cached apart from the node's and other service accounts' tokens. A service account
// that names no role (neither annotation) keeps the node's identity: k itself. An annotation
// that is there but wrong is an error, never the node's identity.
func forWorkload(k *keychain.Keychain, req kubeletapi.Request) (*keychain.Keychain, error) {
	_, hasARN := req.ServiceAccountAnnotations[kubeletapi.AnnotationRoleARN]
	_, hasName := req.ServiceAccountAnnotations[kubeletapi.AnnotationACKRoleName]
	sa := serviceAccountOf(req.ServiceAccountToken)
	if !hasARN && !hasName {
		k.Logger().Debug("kubelet: the service account names no RAM role: the node's identity", "serviceAccount", sa)
		return k, nil
	}
	provider := oidcProviderARN(k)
	if provider == "" {
		return nil, &workloadIdentityError{Msg: "no OIDC provider configured: set " + kubeletapi.EnvOIDCProviderARN +
			" to the cluster's RAM OIDC provider (acs:ram::<account>:oidc-provider/<name>) in the env of the provider in the kubelet's CredentialProviderConfig"}
	}
	prov, ok := acr.ParseProviderARN(provider)
	if !ok {
		return nil, &workloadIdentityError{Msg: fmt.Sprintf("%s=%q is not an OIDC provider ARN: want acs:ram::<account>:oidc-provider/<name>", kubeletapi.EnvOIDCProviderARN, truncate(provider))}
	}
	role, err := workloadRole(req.ServiceAccountAnnotations, prov.Account)
	if err != nil {
		return nil, err
	}
	c := *k
	c.Logins = nil // `docker login` credentials of the node are not the workload's
	// The identity (and so the cache key) is the service account, not the token: the kubelet
	// brings a new token at each pull, and each would leave its own cache entry. A token whose
	// service account cannot be read is its own identity.
	c.Credentials = &sts.OIDC{RoleARN: role, ProviderARN: provider, Token: req.ServiceAccountToken,
		Subject: tokenSubject(req.ServiceAccountToken), SessionName: sessionName(sa)}
	c.CacheScope = "kubelet-sa\x00" + sa + "\x00" + role + "\x00" + provider
	return &c, nil
}

// workloadRole finds the role ARN in the service account's annotations.
func workloadRole(ann map[string]string, account string) (string, error) {
	var arn, fromName string
	if v, ok := ann[kubeletapi.AnnotationRoleARN]; ok {
		v = strings.TrimSpace(v)
		if _, ok := acr.ParseRoleARN(v); !ok {
			return "", &workloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role ARN: want acs:ram::<account>:role/<name>", kubeletapi.AnnotationRoleARN, truncate(v))}
		}
		arn = v
	}
	if v, ok := ann[kubeletapi.AnnotationACKRoleName]; ok {
		v = strings.TrimSpace(v)
		switch {
		case isRoleARN(v):
			fromName = v
		case reRoleName().MatchString(v):
			fromName = "acs:ram::" + account + ":role/" + v
		default:
			return "", &workloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role name", kubeletapi.AnnotationACKRoleName, truncate(v))}
		}
	}
	switch {
	case arn != "" && fromName != "" && !strings.EqualFold(arn, fromName):
		return "", &workloadIdentityError{Msg: fmt.Sprintf("the service account's annotations name two roles: %s=%s and %s (%s): keep one", kubeletapi.AnnotationRoleARN, arn, kubeletapi.AnnotationACKRoleName, fromName)}
	case arn != "":
		return arn, nil
	case fromName != "":
		return fromName, nil
	}
	return "", &workloadIdentityError{Msg: fmt.Sprintf("the service account names no RAM role: annotate it with %s: acs:ram::<account>:role/<name> (or ACK's %s: <role name>), and list the annotation in tokenAttributes of the kubelet's CredentialProviderConfig (see print-kubelet-config)", kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName)}
}

// saClaims are the claims of a service-account token that name its holder.
type saClaims struct {
	Sub        string `json:"sub"`
	Iss        string `json:"iss"`
	Kubernetes struct {
		ServiceAccount struct {
			UID string `json:"uid"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// claimsOf reads the claims of a service-account token without verifying them: they only name
// the session and the cache identity; STS verifies the token. ns and name are "" if the subject
// is not system:serviceaccount:<namespace>:<name>.
func claimsOf(token string) (c saClaims, ns, name string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return c, "", ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return saClaims{}, "", ""
	}
	rest, ok := strings.CutPrefix(c.Sub, "system:serviceaccount:")
	if !ok {
		return c, "", ""
	}
	ns, name, ok = strings.Cut(rest, ":")
	if !ok || !reSANamePart().MatchString(ns) || !reSANamePart().MatchString(name) {
		return c, "", ""
	}
	return c, ns, name
}

// serviceAccountOf reads "<namespace>/<name>" from the token's subject
// (system:serviceaccount:<namespace>:<name>), or "" if it cannot.
func serviceAccountOf(token string) string {
	if _, ns, name := claimsOf(token); name != "" {
		return ns + "/" + name
	}
	return ""
}

// tokenSubject names the holder of a service-account token for the cache: issuer, namespace,
// name and uid of the service account; "" (the token is then its own identity) when the token
// names no service account.
func tokenSubject(token string) string {
	c, ns, name := claimsOf(token)
	if name == "" || len(c.Iss) > 1024 || len(c.Kubernetes.ServiceAccount.UID) > 128 {
		return ""
	}
	return "k8s-sa\x00" + c.Iss + "\x00" + ns + "\x00" + name + "\x00" + c.Kubernetes.ServiceAccount.UID
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

// isRoleARN reports whether s is a RAM role ARN (acr's one rule).
func isRoleARN(s string) bool {
	_, ok := acr.ParseRoleARN(s)
	return ok
}
