package keychain

import "github.com/docker-credential-acr/docker-credential-acr/config"

// accessKeyEnv is the environment seen by the base chain of an entry with the ACK add-on's
// customAccessKey: its AccessKey pair is the environment's AccessKey, and no other source of base
// credentials (a security token, RRSA variables) is mixed in. config warns about such entries
// (an AccessKey in a configuration file or ConfigMap); RRSA is the fix.
func accessKeyEnv(e *config.Registry, getenv func(string) string) func(string) string {
	id, secret := e.CustomAccessKey, e.CustomAccessKeySecret
	return func(name string) string {
		switch name {
		case "ALIBABA_CLOUD_ACCESS_KEY_ID":
			return id
		case "ALIBABA_CLOUD_ACCESS_KEY_SECRET":
			return secret
		case "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
			"ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_OIDC_TOKEN":
			return ""
		}
		return getenv(name)
	}
}
