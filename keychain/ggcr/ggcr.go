// Package ggcr is the docker-credential-acr keychain as a go-containerregistry authn.Keychain,
// for tools that link a keychain instead of running a credential helper (crane, ko, cosign,
// kaniko, policy engines):
//
//	kc, err := ggcr.FromEnvironment()
//	// handle err
//	img, err := remote.Image(ref, remote.WithAuthFromKeychain(authn.NewMultiKeychain(authn.DefaultKeychain, kc)))
//
// It is a module of its own, so that go-containerregistry never enters the helper's go.mod.
package ggcr

import (
	"context"
	"errors"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/secrets/kms"
)

// New is k as an authn.Keychain. It also implements authn.ContextKeychain (authn.Resolve passes
// the caller's context).
//
// Resolve answers authn.Anonymous for a host k does not serve, or has no credentials for
// (keychain.ErrNotFound), so that authn.NewMultiKeychain goes on to the next keychain; the
// host's login for one it serves; and k's error, which says what to do, when getting the login
// failed.
func New(k *keychain.Keychain) authn.Keychain { return &acrKeychain{k: k} }

// FromEnvironment is New of keychain.FromEnvironment with KMS support: the binary's config file,
// environment, token cache and stored logins, and the logins of entries with a `secret`.
func FromEnvironment() (authn.Keychain, error) {
	k, err := keychain.FromEnvironment()
	if err != nil {
		return nil, err
	}
	k.KMS = kms.New
	return New(k), nil
}

type acrKeychain struct{ k *keychain.Keychain }

var _ authn.ContextKeychain = (*acrKeychain)(nil)

// Resolve implements authn.Keychain.
func (a *acrKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return a.ResolveContext(context.Background(), target)
}

// ResolveContext implements authn.ContextKeychain.
func (a *acrKeychain) ResolveContext(ctx context.Context, target authn.Resource) (authn.Authenticator, error) {
	user, secret, err := a.k.Get(ctx, target.RegistryStr())
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return authn.Anonymous, nil
	case err != nil:
		return nil, err
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: secret}), nil
}
