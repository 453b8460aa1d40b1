package acr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/policy"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// The settings reader, the policy writer and the secret references accept exactly the accounts
// acr.ValidAccount does: an account the config file takes is one `doctor --policy` can write a policy for
// (before, a 24-digit one passed the first and failed the second).
func TestEveryCheckAgrees(t *testing.T) {
	for _, acct := range []string{"1111111111111111", "1", strings.Repeat("9", 20), strings.Repeat("1", 21), strings.Repeat("1", 24), "12x4"} {
		want := acr.ValidAccount(acct)
		role := "acs:ram::" + acct + ":role/puller"

		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte("registries:\n  - instanceId: cri-abcdefgh12345678\n    regionId: cn-hangzhou\n    arnService: "+role+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := config.LoadFile(p, func(string) string { return "" })
		if got := err == nil; got != want {
			t.Errorf("config: account %q accepted %v, acr %v (%v)", acct, got, want, err)
		}
		_, err = policy.For(policy.Calls{AssumeRoles: []string{role}, PersonalTokens: []policy.Scope{{Region: "cn-hangzhou", Account: acct}}})
		if got := err == nil; got != want {
			t.Errorf("policy: account %q accepted %v, acr %v (%v)", acct, got, want, err)
		}
		_, err = secrets.ParseRef("acs:kms:cn-hangzhou:"+acct+":secret/hub", "")
		if got := err == nil; got != want {
			t.Errorf("secrets: account %q accepted %v, acr %v (%v)", acct, got, want, err)
		}
	}
}
