package credhelper

// The kubelet image credential provider protocol (credentialprovider.kubelet.k8s.io v1, v1beta1
// and v1alpha1, Kubernetes 1.26+), including per-workload identity with service-account tokens
// (KEP-4412, Kubernetes 1.34+), and the CredentialProviderConfig that enables it.
//
// The kubelet runs the plugin with a CredentialProviderRequest on stdin and reads a
// CredentialProviderResponse from stdout; it kills the plugin after one minute and logs its
// stderr when it fails. The JSON types here are small copies of the upstream ones
// (k8s.io/kubelet/pkg/apis/credentialprovider/v1), kept so that the binary does not depend on
// k8s.io/kubelet; the separate module kubelettest decodes every response strictly with the
// upstream types.
//
// Per-workload identity. With tokenAttributes in the kubelet's config, the request carries a
// service-account token bound to the pod (audience sts.aliyuncs.com by default) and the service
// account's annotations. The RAM role comes from the annotation
// docker-credential-acr.alibabacloud.com/role-arn (a full role ARN), or from ACK's
// pod-identity.alibabacloud.com/role-name (a role name in the account of the OIDC provider). The
// OIDC provider ARN of the cluster comes from DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN (set it in
// the provider's env in the kubelet config; print-kubelet-config does) or
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN. The token is exchanged for the role's STS credentials with
// AssumeRoleWithOIDC, which then take the place of the node's credentials for the rest of the
// usual path (role hops of the config, token API). Logins stored with `docker login` on the node
// are not used for workloads: they belong to the node.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// The API versions of the kubelet's credential provider protocol. The answer always carries the
// request's apiVersion: the kubelet rejects any other.
const (
	KubeletAPIVersionV1       = "credentialprovider.kubelet.k8s.io/v1"
	KubeletAPIVersionV1beta1  = "credentialprovider.kubelet.k8s.io/v1beta1"
	KubeletAPIVersionV1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"

	kubeletRequestKind  = "CredentialProviderRequest"
	kubeletResponseKind = "CredentialProviderResponse"
)

// Cache key types of a CredentialProviderResponse.
const (
	KubeletCacheKeyImage    = "Image"
	KubeletCacheKeyRegistry = "Registry"
	KubeletCacheKeyGlobal   = "Global"
)

// Names the kubelet side uses.
const (
	// KubeletProviderName is the name print-kubelet-config gives the provider, and under which
	// the binary is installed in the kubelet's --image-credential-provider-bin-dir (a copy or a
	// symlink of docker-credential-acr). Invoked under this name, the binary acts as the plugin.
	KubeletProviderName = "acr-credential-provider"
	// AnnotationRoleARN on a service account names the RAM role (a full ARN,
	// acs:ram::<account>:role/<name>) whose credentials pull that workload's images.
	AnnotationRoleARN = "docker-credential-acr.alibabacloud.com/role-arn"
	// AnnotationACKRoleName is ACK's pod-identity annotation: a RAM role name in the account of
	// the OIDC provider.
	AnnotationACKRoleName = "pod-identity.alibabacloud.com/role-name"
	// EnvOIDCProviderARN names the RAM OIDC provider of the cluster
	// (acs:ram::<account>:oidc-provider/<name>) for service-account tokens;
	// ALIBABA_CLOUD_OIDC_PROVIDER_ARN is read when it is unset.
	EnvOIDCProviderARN        = "DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN"
	envAlibabaOIDCProviderARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	// DefaultKubeletAudience is the audience of the service-account tokens: the client id RAM
	// OIDC providers list for STS (as ACK's RRSA does).
	DefaultKubeletAudience = "sts.aliyuncs.com"
	// DefaultKubeletCacheDuration is the printed defaultCacheDuration. Answers with a token say
	// their own duration; the default applies to stored `docker login` credentials.
	DefaultKubeletCacheDuration = 30 * time.Minute
)

const (
	// MaxKubeletInput bounds the request read from stdin. A request is an image reference, a
	// service-account token and a few annotations: a few kilobytes.
	MaxKubeletInput = 1 << 20
	// KubeletTimeout is how long Kubelet works at most: the kubelet kills its plugins after a
	// minute, and an answer it never reads helps no one.
	KubeletTimeout = 55 * time.Second
	maxImageLen    = 4096
)

// IsKubeletProviderName reports whether the binary was run under the name KubeletProviderName
// (argv[0], any directory, with or without ".exe"): it then serves the kubelet, whatever its
// arguments.
func IsKubeletProviderName(argv0 string) bool {
	base := filepath.Base(strings.ReplaceAll(argv0, `\`, "/"))
	return strings.EqualFold(strings.TrimSuffix(strings.TrimSuffix(base, ".exe"), ".EXE"), KubeletProviderName)
}

// KubeletRequest is a CredentialProviderRequest.
type KubeletRequest struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// KubeletResponse is a CredentialProviderResponse.
type KubeletResponse struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	CacheKeyType string `json:"cacheKeyType"`
	// CacheDuration is a Go duration ("44m59s", as metav1.Duration encodes it); "" leaves it
	// out (the kubelet then uses defaultCacheDuration), "0s" tells the kubelet not to cache.
	CacheDuration string                 `json:"cacheDuration,omitempty"`
	Auth          map[string]KubeletAuth `json:"auth,omitempty"`
}

// KubeletAuth is the login for the registries matching one auth key.
type KubeletAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String keeps the password out of logs and %v.
func (a KubeletAuth) String() string { return "{" + a.Username + " <password>}" }

// GoString keeps the password out of %#v.
func (a KubeletAuth) GoString() string { return "credhelper.KubeletAuth" + a.String() }

// KubeletRequestError is a request the plugin cannot answer: not JSON, not a
// CredentialProviderRequest, an unsupported apiVersion, no image, too large, or never finished.
type KubeletRequestError struct{ Reason string }

func (e *KubeletRequestError) Error() string {
	return "kubelet credential provider (Alibaba Cloud ACR): bad CredentialProviderRequest on stdin: " + e.Reason
}

func badRequest(format string, a ...any) error {
	return &KubeletRequestError{Reason: fmt.Sprintf(format, a...)}
}

// Kubelet serves one kubelet request: it reads a CredentialProviderRequest from in (at most
// MaxKubeletInput bytes, within the context's deadline and KubeletTimeout) and writes the
// CredentialProviderResponse to out, in the request's apiVersion. An image whose registry has
// no credentials here (not ACR, Docker Hub, no credentials on this machine) is answered with no
// auth, cacheKeyType Registry and cacheDuration 0s: the kubelet goes on without credentials from
// this plugin and asks again next time. A malformed request (*KubeletRequestError) or a failed
// token request (*TokenError, or a workload-identity error) is returned, and nothing is written:
// the caller prints it on stderr and exits non-zero.
func Kubelet(ctx context.Context, k *Keychain, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, KubeletTimeout)
	defer cancel()
	data, err := readKubeletRequest(ctx, in)
	if err != nil {
		return err
	}
	req, err := DecodeKubeletRequest(data)
	if err != nil {
		return err
	}
	resp, err := k.kubeletResponse(ctx, req)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return fmt.Errorf("kubelet credential provider (Alibaba Cloud ACR): encoding the answer: %v", err)
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("kubelet credential provider (Alibaba Cloud ACR): writing the answer: %v", err)
	}
	return nil
}

// readKubeletRequest reads in to its end, bounded in size and time: a reader that never ends
// (stdin of a terminal) must not hold the kubelet's pull for a minute.
func readKubeletRequest(ctx context.Context, in io.Reader) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(in, MaxKubeletInput+1))
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, badRequest("reading stdin: %v", r.err)
		}
		if len(r.data) > MaxKubeletInput {
			return nil, badRequest("larger than %d bytes; a CredentialProviderRequest is a few kilobytes", MaxKubeletInput)
		}
		return r.data, nil
	case <-ctx.Done():
		return nil, badRequest("stdin did not end in time (%v): the kubelet writes one request and closes stdin", context.Cause(ctx))
	}
}

// DecodeKubeletRequest parses a CredentialProviderRequest: one JSON object with apiVersion
// (v1, v1beta1 or v1alpha1 of credentialprovider.kubelet.k8s.io), kind CredentialProviderRequest
// and a non-empty image; serviceAccountToken and serviceAccountAnnotations are optional. Field
// names match exactly (as the kubelet's own strict decoder does); fields this version does not
// know are ignored, so that a newer kubelet can add some. Errors are *KubeletRequestError and
// never quote the token.
func DecodeKubeletRequest(data []byte) (KubeletRequest, error) {
	var req KubeletRequest
	if len(bytes.TrimSpace(data)) == 0 {
		return req, badRequest("empty input: expected a CredentialProviderRequest (JSON) from the kubelet")
	}
	if !utf8.Valid(data) {
		return req, badRequest("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return req, badRequest("not a JSON object")
		}
		return req, badRequest("not valid JSON: %v", jsonErr(err))
	}
	if fields == nil {
		return req, badRequest("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, badRequest("more than one JSON value")
	}
	str := func(name string, dst *string) error {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return badRequest("%s is not a string", name)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"apiVersion", &req.APIVersion}, {"kind", &req.Kind}, {"image", &req.Image}, {"serviceAccountToken", &req.ServiceAccountToken}} {
		if err := str(f.name, f.dst); err != nil {
			return KubeletRequest{}, err
		}
	}
	if raw, ok := fields["serviceAccountAnnotations"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req.ServiceAccountAnnotations); err != nil {
			return KubeletRequest{}, badRequest("serviceAccountAnnotations is not an object of strings")
		}
	}
	switch req.APIVersion {
	case KubeletAPIVersionV1, KubeletAPIVersionV1beta1, KubeletAPIVersionV1alpha1:
	case "":
		return KubeletRequest{}, badRequest("no apiVersion: want %s (or v1beta1, v1alpha1)", KubeletAPIVersionV1)
	default:
		return KubeletRequest{}, badRequest("unsupported apiVersion %q: want %s, %s or %s", truncate(req.APIVersion),
			KubeletAPIVersionV1, KubeletAPIVersionV1beta1, KubeletAPIVersionV1alpha1)
	}
	switch req.Kind {
	case kubeletRequestKind:
	case "":
		return KubeletRequest{}, badRequest("no kind: want %s", kubeletRequestKind)
	default:
		return KubeletRequest{}, badRequest("kind %q: want %s", truncate(req.Kind), kubeletRequestKind)
	}
	switch {
	case req.Image == "":
		return KubeletRequest{}, badRequest("no image")
	case len(req.Image) > maxImageLen:
		return KubeletRequest{}, badRequest("image longer than %d bytes", maxImageLen)
	case strings.IndexFunc(req.Image, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return KubeletRequest{}, badRequest("image %q holds whitespace or control characters", truncate(req.Image))
	}
	return req, nil
}

// jsonErr describes a JSON error without quoting the input.
func jsonErr(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated"
	}
	return "unreadable"
}

// ImageRegistry returns the registry host of an image reference as written
// ("registry.cn-hangzhou.aliyuncs.com" of "registry.cn-hangzhou.aliyuncs.com/ns/app:tag",
// "host:5000" of "host:5000/app@sha256:…"). Docker Hub images ("nginx", "library/nginx",
// "user/app": no '.' or ':' in the first part and not localhost) have none: ok is false.
func ImageRegistry(image string) (host string, ok bool) {
	i := strings.IndexByte(image, '/')
	if i <= 0 {
		return "", false
	}
	host = image[:i]
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "", false
	}
	return host, true
}

func (k *Keychain) kubeletResponse(ctx context.Context, req KubeletRequest) (KubeletResponse, error) {
	resp := KubeletResponse{APIVersion: req.APIVersion, Kind: kubeletResponseKind, CacheKeyType: KubeletCacheKeyRegistry}
	none := func(why string, args ...any) (KubeletResponse, error) {
		k.log().Debug("kubelet: no credentials for the image: "+why, args...)
		resp.CacheDuration = "0s"
		return resp, nil
	}
	host, ok := ImageRegistry(req.Image)
	if !ok {
		return none("Docker Hub image", "image", truncate(req.Image))
	}
	reg, err := acr.Parse(host)
	if err != nil {
		return none("not a registry host", "image", truncate(req.Image))
	}
	kc := k
	if req.ServiceAccountToken != "" {
		if !k.mayServe(reg) {
			return none("neither an ACR host nor a domain in the config", "host", reg.Host)
		}
		kc, err = k.forWorkload(req)
		if err != nil {
			return KubeletResponse{}, err
		}
	}
	login, err := kc.Get(ctx, host)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		if nf.Hint != "" {
			k.log().Warn(nf.Hint)
		}
		return none("not found", "host", reg.Host)
	case err != nil:
		return KubeletResponse{}, err
	}
	// The key is the host as the image writes it: the kubelet matches keys against the image,
	// port included.
	resp.Auth = map[string]KubeletAuth{host: {Username: login.Username, Password: login.Secret}}
	resp.CacheDuration = kubeletCacheDuration(login, kc.now(), k.Config.ExpiringThreshold)
	k.log().Debug("kubelet: login for the image", "host", reg.Host, "source", login.Source, "cacheDuration", resp.CacheDuration)
	return resp, nil
}

// kubeletCacheDuration is how long the kubelet may keep a login: until the helper itself would
// refresh it (expiry minus the expiring threshold), in whole seconds; 0s (do not cache) when
// that moment has passed; "" (the configured default) for stored logins, which do not expire.
func kubeletCacheDuration(l Login, now time.Time, threshold time.Duration) string {
	if l.ExpiresAt.IsZero() {
		return ""
	}
	d := (l.ExpiresAt.Sub(now) - threshold).Truncate(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String()
}

// mayServe reports whether the Keychain could serve reg: an ACR default domain, or a domain the
// config names.
func (k *Keychain) mayServe(reg acr.Registry) bool {
	if reg.IsACR() {
		return true
	}
	e := k.Config.Match(reg.MatchesDomain, "")
	return e != nil && domainListed(e, reg)
}

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

// OIDCProviderARN is the cluster's RAM OIDC provider from the environment
// (DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN, else ALIBABA_CLOUD_OIDC_PROVIDER_ARN).
func OIDCProviderARN() string {
	if v := strings.TrimSpace(os.Getenv(EnvOIDCProviderARN)); v != "" {
		return v
	}
	return strings.TrimSpace(os.Getenv(envAlibabaOIDCProviderARN))
}

// forWorkload is k with the workload's identity: the role of the service account, assumed with
// its token; cached apart from the node's and other service accounts' tokens.
func (k *Keychain) forWorkload(req KubeletRequest) (*Keychain, error) {
	provider := OIDCProviderARN()
	if provider == "" {
		return nil, &WorkloadIdentityError{Msg: "no OIDC provider configured: set " + EnvOIDCProviderARN +
			" to the cluster's RAM OIDC provider (acs:ram::<account>:oidc-provider/<name>) in the env of the provider in the kubelet's CredentialProviderConfig"}
	}
	m := reProviderARN().FindStringSubmatch(provider)
	if m == nil {
		return nil, &WorkloadIdentityError{Msg: fmt.Sprintf("%s=%q is not an OIDC provider ARN: want acs:ram::<account>:oidc-provider/<name>", EnvOIDCProviderARN, truncate(provider))}
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
	if v, ok := ann[AnnotationRoleARN]; ok {
		v = strings.TrimSpace(v)
		if !reRoleARN().MatchString(v) {
			return "", &WorkloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role ARN: want acs:ram::<account>:role/<name>", AnnotationRoleARN, truncate(v))}
		}
		arn = v
	}
	if v, ok := ann[AnnotationACKRoleName]; ok {
		v = strings.TrimSpace(v)
		switch {
		case reRoleARN().MatchString(v):
			fromName = v
		case reRoleName().MatchString(v):
			fromName = "acs:ram::" + account + ":role/" + v
		default:
			return "", &WorkloadIdentityError{Msg: fmt.Sprintf("annotation %s=%q is not a RAM role name", AnnotationACKRoleName, truncate(v))}
		}
	}
	switch {
	case arn != "" && fromName != "" && !strings.EqualFold(arn, fromName):
		return "", &WorkloadIdentityError{Msg: fmt.Sprintf("the service account's annotations name two roles: %s=%s and %s (%s): keep one", AnnotationRoleARN, arn, AnnotationACKRoleName, fromName)}
	case arn != "":
		return arn, nil
	case fromName != "":
		return fromName, nil
	}
	return "", &WorkloadIdentityError{Msg: fmt.Sprintf("the request carries a service-account token but the service account names no RAM role: annotate it with %s: acs:ram::<account>:role/<name> (or ACK's %s: <role name>), and list the annotation in tokenAttributes of the kubelet's CredentialProviderConfig (see print-kubelet-config)", AnnotationRoleARN, AnnotationACKRoleName)}
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

// KubeletConfigOptions say what PrintKubeletConfig prints. The zero value gives the config for
// the node's own credentials.
type KubeletConfigOptions struct {
	// Name of the provider: the executable's name in the kubelet's
	// --image-credential-provider-bin-dir. Default KubeletProviderName.
	Name string
	// APIVersion of the requests: KubeletAPIVersionV1 (default; Kubernetes 1.26+), or v1beta1
	// (1.24+) / v1alpha1 (1.20+) for older kubelets, with the config in the same version.
	APIVersion string
	// DefaultCacheDuration, for answers without their own (stored logins); 0 means the default,
	// DefaultKubeletCacheDuration.
	DefaultCacheDuration time.Duration
	// MatchImages are added to the ACR patterns: the custom domains of Enterprise instances
	// ("registry.example.com", "registry.example.com:5000"), which must also be in the helper's
	// config.
	MatchImages []string
	// ServiceAccountTokens adds tokenAttributes (Kubernetes 1.34+): per-workload identity.
	ServiceAccountTokens bool
	// Audience of the service-account tokens. Default DefaultKubeletAudience.
	Audience string
	// RoleAnnotation is the annotation a service account must carry for the kubelet to call the
	// plugin with its token: AnnotationRoleARN (default) or AnnotationACKRoleName.
	RoleAnnotation string
	// OIDCProviderARN of the cluster, set in the provider's env. Required with
	// ServiceAccountTokens.
	OIDCProviderARN string
}

// KubeletMatchImages are the matchImages patterns of every ACR default domain. In the kubelet's
// matching each '*' stands for (part of) exactly one DNS label and ports must be equal, so each
// depth and the P2P port are listed:
//
//	registry*.*.aliyuncs.com                         Personal Edition: registry[-vpc|-internal|-intl|-intl-vpc].<region>
//	crpi-*.*.personal.cr.aliyuncs.com                Personal Edition instances: crpi-<id>[-vpc].<region>
//	*-registry*.*.cr.aliyuncs.com                    Enterprise Edition: <name>-registry[-vpc].<region>
//	*-registry-vpc.distributed.*.cr.aliyuncs.com     Enterprise P2P acceleration, without a port
//	*-registry-vpc.distributed.*.cr.aliyuncs.com:65001 and with the P2P port
//
// Custom domains are not covered: add them (KubeletConfigOptions.MatchImages).
var KubeletMatchImages = []string{
	"registry*.*.aliyuncs.com",
	"crpi-*.*.personal.cr.aliyuncs.com",
	"*-registry*.*.cr.aliyuncs.com",
	"*-registry-vpc.distributed.*.cr.aliyuncs.com",
	"*-registry-vpc.distributed.*.cr.aliyuncs.com:65001",
}

// ParseKubeletConfigArgs reads the flags of `print-kubelet-config`:
//
//	--name NAME  --api-version VERSION  --default-cache-duration DURATION
//	--match-image PATTERN (repeatable)  --service-account-tokens  --audience AUDIENCE
//	--role-annotation KEY  --oidc-provider-arn ARN
//
// --oidc-provider-arn defaults to DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN or
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN. Usage errors are returned; -h gives flag.ErrHelp.
func ParseKubeletConfigArgs(args []string, usage io.Writer) (KubeletConfigOptions, error) {
	var o KubeletConfigOptions
	fs := flag.NewFlagSet("print-kubelet-config", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&o.Name, "name", KubeletProviderName, "provider name: the executable's name in the kubelet's --image-credential-provider-bin-dir")
	fs.StringVar(&o.APIVersion, "api-version", KubeletAPIVersionV1, "apiVersion of the requests (v1 for Kubernetes 1.26+; v1beta1, v1alpha1 for older kubelets)")
	fs.DurationVar(&o.DefaultCacheDuration, "default-cache-duration", DefaultKubeletCacheDuration, "defaultCacheDuration")
	fs.Func("match-image", "an extra matchImages pattern, e.g. a custom domain of an Enterprise instance (repeatable)", func(s string) error {
		o.MatchImages = append(o.MatchImages, s)
		return nil
	})
	fs.BoolVar(&o.ServiceAccountTokens, "service-account-tokens", false, "per-workload identity with service-account tokens (Kubernetes 1.34+)")
	fs.StringVar(&o.Audience, "audience", DefaultKubeletAudience, "audience of the service-account tokens")
	fs.StringVar(&o.RoleAnnotation, "role-annotation", AnnotationRoleARN, "the service-account annotation naming the RAM role: "+AnnotationRoleARN+" or "+AnnotationACKRoleName)
	fs.StringVar(&o.OIDCProviderARN, "oidc-provider-arn", OIDCProviderARN(), "the cluster's RAM OIDC provider, acs:ram::<account>:oidc-provider/<name>")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("print-kubelet-config: unexpected argument %q", truncate(fs.Arg(0)))
	}
	return o, nil
}

// PrintKubeletConfig writes a CredentialProviderConfig (YAML) that enables the plugin for every
// ACR default domain and opts.MatchImages, with comments on installing it and, with
// ServiceAccountTokens, the tokenAttributes and, as a comment, the RBAC rule that lets nodes
// request tokens for the audience.
func PrintKubeletConfig(out io.Writer, opts KubeletConfigOptions) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	configVersion := "kubelet.config.k8s.io/" + o.APIVersion[strings.LastIndexByte(o.APIVersion, '/')+1:]

	w("# Kubelet image credential provider for Alibaba Cloud Container Registry (ACR): docker-credential-acr.\n")
	w("#\n")
	w("# 1. Install docker-credential-acr in the kubelet's --image-credential-provider-bin-dir under the\n")
	w("#    name %s (a copy or a symlink).\n", o.Name)
	w("# 2. Save this file (e.g. /etc/kubernetes/acr-credential-provider.yaml) and start the kubelet with\n")
	w("#    --image-credential-provider-config=<this file> --image-credential-provider-bin-dir=<that dir>.\n")
	w("# 3. Custom domains of Enterprise instances: add them to matchImages (--match-image) and to the\n")
	w("#    helper's config file. The node's credentials are the helper's usual ones (ECS RAM role, ...).\n")
	if o.ServiceAccountTokens {
		w("# 4. Per-workload identity: the kubelet calls the plugin only for pods whose service account has\n")
		w("#    the annotation %s,\n", o.RoleAnnotation)
		w("#    with a service-account token for the audience %s.\n", o.Audience)
		if o.RoleAnnotation == AnnotationRoleARN {
			w("#    Its value is the RAM role ARN, acs:ram::<account>:role/<name>.\n")
		} else {
			w("#    Its value is a RAM role name in the account of the OIDC provider.\n")
		}
		w("#    The role's trust policy must trust the OIDC provider below for the subject\n")
		w("#    system:serviceaccount:<namespace>:<name>, and the provider must list %s\n", o.Audience)
		w("#    as a client id.\n")
		w("#    Pods whose service account lacks the annotation get no credentials from this provider.\n")
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
		w("      requireServiceAccount: true\n")
		w("      requiredServiceAccountAnnotationKeys:\n")
		w("        - %s\n", yamlString(o.RoleAnnotation))
		w("    env:\n")
		w("      - name: %s\n", EnvOIDCProviderARN)
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

// kubeletRBACMarker starts the commented RBAC manifests in PrintKubeletConfig's output.
const kubeletRBACMarker = "RBAC for the nodes:"

// kubeletRBACName names the ClusterRole and ClusterRoleBinding of the audience.
const kubeletRBACName = "docker-credential-acr-kubelet-audience"

func (o KubeletConfigOptions) withDefaults() (KubeletConfigOptions, error) {
	fail := func(format string, a ...any) (KubeletConfigOptions, error) {
		return o, fmt.Errorf("print-kubelet-config: "+format, a...)
	}
	if o.Name == "" {
		o.Name = KubeletProviderName
	}
	if o.Name != filepath.Base(o.Name) || strings.ContainsAny(o.Name, `/\:`) || o.Name == "." || o.Name == ".." || !printable(o.Name) {
		return fail("--name %q: want the plain file name of the executable", truncate(o.Name))
	}
	switch o.APIVersion {
	case "", "v1":
		o.APIVersion = KubeletAPIVersionV1
	case "v1beta1":
		o.APIVersion = KubeletAPIVersionV1beta1
	case "v1alpha1":
		o.APIVersion = KubeletAPIVersionV1alpha1
	case KubeletAPIVersionV1, KubeletAPIVersionV1beta1, KubeletAPIVersionV1alpha1:
	default:
		return fail("--api-version %q: want v1, v1beta1 or v1alpha1", truncate(o.APIVersion))
	}
	if o.DefaultCacheDuration == 0 {
		o.DefaultCacheDuration = DefaultKubeletCacheDuration
	}
	if o.DefaultCacheDuration < 0 {
		return fail("--default-cache-duration %v: must not be negative", o.DefaultCacheDuration)
	}
	patterns := append([]string(nil), KubeletMatchImages...)
	seen := map[string]bool{}
	for _, p := range patterns {
		seen[p] = true
	}
	for _, m := range o.MatchImages {
		m = strings.TrimSpace(m)
		if err := checkMatchImage(m); err != nil {
			return fail("--match-image %q: %v", truncate(m), err)
		}
		if !seen[m] {
			seen[m] = true
			patterns = append(patterns, m)
		}
	}
	o.MatchImages = patterns
	if !o.ServiceAccountTokens {
		return o, nil
	}
	if o.APIVersion != KubeletAPIVersionV1 {
		return fail("service-account tokens need apiVersion %s (Kubernetes 1.34+)", KubeletAPIVersionV1)
	}
	if o.Audience == "" {
		o.Audience = DefaultKubeletAudience
	}
	if !printable(o.Audience) || strings.ContainsAny(o.Audience, " \"'#") {
		return fail("--audience %q: want a plain string such as %s", truncate(o.Audience), DefaultKubeletAudience)
	}
	switch o.RoleAnnotation {
	case "":
		o.RoleAnnotation = AnnotationRoleARN
	case AnnotationRoleARN, AnnotationACKRoleName:
	default:
		return fail("--role-annotation %q: want %s or %s", truncate(o.RoleAnnotation), AnnotationRoleARN, AnnotationACKRoleName)
	}
	o.OIDCProviderARN = strings.TrimSpace(o.OIDCProviderARN)
	if o.OIDCProviderARN == "" {
		return fail("service-account tokens need the cluster's RAM OIDC provider: --oidc-provider-arn acs:ram::<account>:oidc-provider/<name> (ACK: the cluster's RRSA provider)")
	}
	if !reProviderARN().MatchString(o.OIDCProviderARN) {
		return fail("--oidc-provider-arn %q: want acs:ram::<account>:oidc-provider/<name>", truncate(o.OIDCProviderARN))
	}
	return o, nil
}

// checkMatchImage accepts what the kubelet accepts as a matchImages entry: host[:port][/path],
// globs in the host only.
func checkMatchImage(m string) error {
	if m == "" || !printable(m) || strings.ContainsAny(m, " \"'#\\") {
		return errors.New("want host[:port][/path], e.g. registry.example.com")
	}
	if strings.Contains(m, "://") {
		return errors.New("no scheme: write host[:port][/path]")
	}
	u, err := url.Parse("https://" + m)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want host[:port][/path], e.g. registry.example.com")
	}
	if strings.ContainsAny(u.Port(), "*?[") || strings.ContainsAny(u.Path, "*?[") {
		return errors.New("globs are allowed in the host only")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("bad port")
		}
	}
	return nil
}

func printable(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return false
		}
	}
	return true
}

// yamlString quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
