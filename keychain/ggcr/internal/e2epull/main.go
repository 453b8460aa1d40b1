// Command e2epull is the end-to-end tests' go-containerregistry client (e2e/scenarios.sh,
// scenario ggcr-keychain): it resolves a reference's manifest with remote.Get, authenticated by
// the ggcr keychain of the process environment in front of ggcr's default keychain, as a tool
// that links the keychain does, and prints the manifest's digest and the user name it got.
//
//	e2epull REF
package main

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/docker-credential-acr/docker-credential-acr/keychain/ggcr"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: e2epull REF")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "e2epull:", err)
		os.Exit(1)
	}
}

func run(s string) error {
	ref, err := name.ParseReference(s)
	if err != nil {
		return err
	}
	acr, err := ggcr.FromEnvironment()
	if err != nil {
		return err
	}
	kc := authn.NewMultiKeychain(acr, authn.DefaultKeychain)
	auth, err := kc.Resolve(ref.Context())
	if err != nil {
		return err
	}
	user := "(anonymous)"
	if auth != authn.Anonymous {
		cfg, err := auth.Authorization()
		if err != nil {
			return err
		}
		user = cfg.Username
	}
	desc, err := remote.Get(ref, remote.WithAuthFromKeychain(kc))
	if err != nil {
		return err
	}
	fmt.Printf("digest %s user %s\n", desc.Digest, user)
	return nil
}
