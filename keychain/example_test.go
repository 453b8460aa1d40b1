package keychain_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
)

// The Keychain the binary uses: the same config file, environment, cache and stored logins.
func ExampleFromEnvironment() {
	k, err := keychain.FromEnvironment()
	if err != nil {
		fmt.Println(err) // a config file that cannot be read, with the fix
		return
	}
	user, secret, err := k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com")
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		// no credentials for this host: pull anonymously, or ask the next keychain
	case err != nil:
		fmt.Println(err) // what failed, and what to do
	default:
		_, _ = user, secret
	}
}

// A Keychain built from values alone: no variable, file or directory of the process is read
// unless named here. This one serves a custom domain of an Enterprise instance besides the ACR
// default domains, with the credentials in its own environment map, and logs to the caller's
// logger.
func ExampleNew() {
	env := map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":         "LTAI...",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":     "...",
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	}
	k, err := keychain.New(keychain.Options{
		Config: &config.Config{
			Registries: []config.Registry{{Domains: []string{"registry.example.com"}, InstanceID: "cri-xxxxxxxxxxxxxxxx", RegionID: "cn-hangzhou"}},
			Getenv:     func(name string) string { return env[name] },
		},
		CacheDir: "", // no on-disk cache
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Hosts it does not serve are not found at once, with no I/O.
	for _, host := range []string{"gcr.io", "registry.example.com.evil"} {
		_, _, err := k.Get(context.Background(), host)
		fmt.Println(host, errors.Is(err, keychain.ErrNotFound))
	}
	// Output:
	// gcr.io true
	// registry.example.com.evil true
}

// Without Alibaba Cloud credentials, an ACR host is not found too (the error says how to get
// some), and clients pull anonymously.
func ExampleKeychain_Get() {
	k, err := keychain.New(keychain.Options{Config: &config.Config{
		Getenv: func(name string) string {
			return map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}[name]
		},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, err = k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com")
	fmt.Println(errors.Is(err, keychain.ErrNotFound))
	// Output: true
}

// The expiry of a login, for callers that keep it (the controller writes it into Secrets).
func ExampleKeychain_Login() {
	k, _ := keychain.New(keychain.Options{})
	l, err := k.Login(context.Background(), "quay.io")
	fmt.Println(l.ExpiresAt.IsZero(), errors.Is(err, keychain.ErrNotFound))
	// Output: true true
}

// The Keychain as a docker credential helper: for go-containerregistry,
// authn.NewKeychainFromHelper(k.Helper()); its Get answers as the binary's `get`.
func ExampleKeychain_Helper() {
	k, _ := keychain.New(keychain.Options{})
	_, _, err := k.Helper().Get("gcr.io")
	fmt.Println(credentials.IsErrCredentialsNotFound(err))
	// Output: true
}
