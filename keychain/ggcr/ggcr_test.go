package ggcr

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
)

// newKeychain is a keychain over the fake Alibaba Cloud with the world's dev AccessKey (or none).
func newKeychain(t *testing.T, withCredentials bool, endpoint string) *keychain.Keychain {
	t.Helper()
	fc, w := testkit.StartFake(t)
	if endpoint == "" {
		endpoint = fc.URL()
	}
	env := map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	if withCredentials {
		env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = w.User("dev").AccessKeyID
		env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = w.User("dev").AccessKeySecret
	}
	k, err := keychain.New(keychain.Options{
		Config: &config.Config{
			Endpoints: config.Endpoints{CR: endpoint, STS: endpoint},
			Getenv:    func(n string) string { return env[n] },
		},
		CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	k.DMIDir = t.TempDir()
	return k
}

func resource(t *testing.T, image string) authn.Resource {
	t.Helper()
	ref, err := name.ParseReference(image)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context()
}

type static struct{ auth authn.Authenticator }

func (s static) Resolve(authn.Resource) (authn.Authenticator, error) { return s.auth, nil }

func TestResolve(t *testing.T) {
	t.Parallel()
	k := newKeychain(t, true, "")
	kc := New(k)

	// A host it serves: the login the keychain hands out, as basic auth.
	acr := resource(t, "registry.cn-hangzhou.aliyuncs.com/team/app:1")
	auth, err := kc.Resolve(acr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := auth.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	user, secret, err := k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com")
	if err != nil || cfg.Username != user || cfg.Password != secret || cfg.Password == "" {
		t.Errorf("Resolve gave %q/%q; the keychain %q/%q (%v)", cfg.Username, cfg.Password, user, secret, err)
	}

	// Hosts it does not serve: Anonymous, so that a multi-keychain asks the next one.
	for _, image := range []string{"gcr.io/distroless/static", "nginx", "x.cr.aliyuncs.com.evil/app", "registry.cn-hangzhou.aliyuncs.com.evil.example/a"} {
		auth, err := kc.Resolve(resource(t, image))
		if err != nil || auth != authn.Anonymous {
			t.Errorf("%s: %v, %v; want Anonymous", image, auth, err)
		}
	}
	other := authn.FromConfig(authn.AuthConfig{Username: "u", Password: "p"})
	multi := authn.NewMultiKeychain(kc, static{other})
	if auth, err := multi.Resolve(resource(t, "gcr.io/x/y")); err != nil || auth != other {
		t.Errorf("the multi-keychain did not go on to the next keychain: %v, %v", auth, err)
	}
	if auth, err := multi.Resolve(acr); err != nil || auth == other || auth == authn.Anonymous {
		t.Errorf("the multi-keychain did not take the ACR login: %v, %v", auth, err)
	}
}

// An ACR host without any Alibaba Cloud credentials: Anonymous (public repositories pull).
func TestResolveWithoutCredentials(t *testing.T) {
	t.Parallel()
	auth, err := New(newKeychain(t, false, "")).Resolve(resource(t, "registry.cn-hangzhou.aliyuncs.com/team/app"))
	if err != nil || auth != authn.Anonymous {
		t.Errorf("%v, %v; want Anonymous", auth, err)
	}
}

// A failure to get the login is the keychain's error (it says what to do), never Anonymous: an
// anonymous pull would hide why it was refused.
func TestResolveFailure(t *testing.T) {
	t.Parallel()
	kc := New(newKeychain(t, true, "http://127.0.0.1:1"))
	auth, err := authn.Resolve(context.Background(), kc, resource(t, "registry.cn-hangzhou.aliyuncs.com/team/app"))
	if err == nil || errors.Is(err, keychain.ErrNotFound) || auth != nil {
		t.Errorf("%v, %v; want the token error", auth, err)
	}
}

// ResolveContext passes the caller's context: a cancelled one ends the call.
func TestResolveContextCancelled(t *testing.T) {
	t.Parallel()
	kc := New(newKeychain(t, true, ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := authn.Resolve(ctx, kc, resource(t, "registry.cn-hangzhou.aliyuncs.com/team/app")); !errors.Is(err, context.Canceled) {
		t.Errorf("%v; want context.Canceled", err)
	}
}
