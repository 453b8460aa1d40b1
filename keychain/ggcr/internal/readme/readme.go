// Package readme holds the Go snippets of the README's "Embedding" section, so that they are
// compiled (and vetted) with the module; TestREADMESnippets checks that the README shows them as
// they are here.
package readme

import (
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/keychain/ggcr"
)

// gofmt would spread `if err != nil { return err }` over three lines; the README keeps it on one.
// The snippets are compared with the README modulo that and the indentation.

func ggcrUsers() (authn.Keychain, error) {
	acr, err := ggcr.FromEnvironment() // the binary's config file, environment, cache and stored logins
	if err != nil {
		return nil, err
	}
	kc := authn.NewMultiKeychain(authn.DefaultKeychain, acr) // remote.WithAuthFromKeychain(kc)
	return kc, nil
}

func helperUsers() (string, string, error) {
	k, err := keychain.FromEnvironment()
	if err != nil {
		return "", "", err
	}
	user, secret, err := k.Helper().Get("registry.cn-hangzhou.aliyuncs.com")
	return user, secret, err
}
