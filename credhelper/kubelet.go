package credhelper

// The kubelet image credential provider plugin: a CredentialProviderRequest in (its wire format
// is package kubeletapi), the login for the image's registry out. Per-workload identity (a
// service-account token in the request) is workload.go; the CredentialProviderConfig that
// enables the plugin is printed by internal/kubeletconfig.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// kubeletTimeout is how long Kubelet works at most: the kubelet kills its plugins after a
// minute, and an answer it never reads helps no one.
const kubeletTimeout = 55 * time.Second

// IsKubeletProviderName reports whether the binary was run under the name
// kubeletapi.ProviderName (argv[0], any directory, with or without ".exe"): it then serves the
// kubelet, whatever its arguments.
func IsKubeletProviderName(argv0 string) bool { return kubeletapi.IsProviderName(argv0) }

// Kubelet serves one kubelet request: it reads a CredentialProviderRequest from in (at most
// kubeletapi.MaxInput bytes, within the context's deadline and kubeletTimeout) and writes the
// CredentialProviderResponse to out, in the request's apiVersion. An image whose registry has
// no credentials here (not ACR, Docker Hub, no credentials on this machine) is answered with no
// auth, cacheKeyType Registry and cacheDuration 0s: the kubelet goes on without credentials from
// this plugin and asks again next time. A malformed request (*kubeletapi.RequestError) or a
// failed token request (*keychain.TokenError, or a *WorkloadIdentityError) is returned, and nothing is
// written: the caller prints it on stderr and exits non-zero.
func Kubelet(ctx context.Context, k *keychain.Keychain, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, kubeletTimeout)
	defer cancel()
	req, err := kubeletapi.ReadRequest(ctx, in)
	if err != nil {
		return err
	}
	resp, err := kubeletResponse(k, ctx, req)
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

func kubeletResponse(k *keychain.Keychain, ctx context.Context, req kubeletapi.Request) (kubeletapi.Response, error) {
	resp := kubeletapi.Response{APIVersion: req.APIVersion, Kind: kubeletapi.ResponseKind, CacheKeyType: kubeletapi.CacheKeyRegistry}
	none := func(why string, args ...any) (kubeletapi.Response, error) {
		k.Logger().Debug("kubelet: no credentials for the image: "+why, args...)
		resp.CacheDuration = "0s"
		return resp, nil
	}
	host, ok := kubeletapi.ImageRegistry(req.Image)
	if !ok {
		host = secrets.DockerHub // "nginx", "user/app": a Docker Hub image, served if an entry lists docker.io
	}
	reg, err := acr.Parse(host)
	if err != nil {
		return none("not a registry host", "image", truncate(req.Image))
	}
	kc := k
	if req.ServiceAccountToken != "" {
		if !k.Serves(reg) {
			return none("neither an ACR host nor a domain in the config", "host", reg.Host)
		}
		kc, err = forWorkload(k, req)
		if err != nil {
			return kubeletapi.Response{}, err
		}
	}
	login, err := kc.LoginOrStored(ctx, host)
	var nf *keychain.NotFoundError
	switch {
	case errors.As(err, &nf):
		if nf.Hint != "" {
			k.Logger().Warn(nf.Hint)
		}
		return none("not found", "host", reg.Host)
	case err != nil:
		return kubeletapi.Response{}, err
	}
	// The key is the host as the image writes it: the kubelet matches keys against the image,
	// port included.
	resp.Auth = map[string]kubeletapi.Auth{host: {Username: login.Username, Password: login.Secret}}
	threshold := k.Config.ExpiringThreshold
	if login.FromSecret != "" {
		threshold = 0 // a login from a secret is good until its secretTTL is over
	}
	resp.CacheDuration = kubeletCacheDuration(login, kc.Now(), threshold)
	k.Logger().Debug("kubelet: login for the image", "host", reg.Host, "source", login.Source, "cacheDuration", resp.CacheDuration)
	return resp, nil
}

// maxKubeletCacheDuration caps what the kubelet is told: ACR's temporary logins live at most
// hours, so an expiry further away than this is not believed (a year-9999 answer would
// otherwise pin a login in the kubelet for 2562047h).
const maxKubeletCacheDuration = 12 * time.Hour

// kubeletCacheDuration is how long the kubelet may keep a login: until the helper itself would
// refresh it (expiry minus the expiring threshold), in whole seconds, at most
// maxKubeletCacheDuration; 0s (do not cache) when that moment has passed; "" (the configured
// default) for stored logins, which do not expire.
func kubeletCacheDuration(l keychain.Login, now time.Time, threshold time.Duration) string {
	if l.ExpiresAt.IsZero() {
		return ""
	}
	// Compared as times, not durations: Sub saturates at ±292 years, and subtracting the
	// threshold from a saturated duration would wrap around.
	refresh := l.ExpiresAt.Add(-threshold)
	var d time.Duration
	switch {
	case !refresh.After(now):
		d = 0
	case refresh.After(now.Add(maxKubeletCacheDuration)):
		d = maxKubeletCacheDuration
	default:
		d = refresh.Sub(now)
	}
	return d.Truncate(time.Second).String()
}
