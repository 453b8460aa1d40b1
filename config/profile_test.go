package config

import (
	"strings"
	"testing"
)

// `profile` names an entry's base credentials; with rrsaRoleARN it would name two.
func TestRegistryProfile(t *testing.T) {
	c, err := LoadFile(write(t, "registries:\n  - domains: [a.example.com]\n    Profile: prod\n  - domains: [b.example.com]\n"), env(t))
	if err != nil || c.Registries[0].Profile != "prod" || c.Registries[1].Profile != "" {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = LoadFile(write(t, "registries:\n  - profile: prod\n    rrsaRoleARN: acs:ram::1:role/r\n    oidcProviderArn: acs:ram::1:oidc-provider/p\n"), env(t))
	if err == nil || !strings.Contains(err.Error(), "registries[0].profile") || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("profile with rrsaRoleARN: %v", err)
	}
	if _, err := LoadFile(write(t, "registries:\n  - profile: [a, b]\n"), env(t)); err == nil {
		t.Error("a list as profile: no error")
	}
}
