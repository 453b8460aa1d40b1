package sts

import "testing"

// A token with a Subject is named by it: every token of one subject, for one role and provider,
// is one identity; without a Subject each token is its own.
func TestOIDCSubjectIdentity(t *testing.T) {
	id := func(o OIDC) string { return NewChain(ChainOptions{OIDC: &o}).Identity() }
	const role, other, provider = "acs:ram::1:role/a", "acs:ram::1:role/b", "acs:ram::1:oidc-provider/p"
	a1 := id(OIDC{RoleARN: role, ProviderARN: provider, Token: "t1", Subject: "sa-a"})
	a2 := id(OIDC{RoleARN: role, ProviderARN: provider, Token: "t2", Subject: "sa-a"})
	if a1 != a2 {
		t.Error("two tokens of one subject are two identities")
	}
	for name, o := range map[string]OIDC{
		"another subject":  {RoleARN: role, ProviderARN: provider, Token: "t1", Subject: "sa-b"},
		"another role":     {RoleARN: other, ProviderARN: provider, Token: "t1", Subject: "sa-a"},
		"another provider": {RoleARN: role, ProviderARN: provider + "2", Token: "t1", Subject: "sa-a"},
		"no subject":       {RoleARN: role, ProviderARN: provider, Token: "t1"},
	} {
		if id(o) == a1 {
			t.Errorf("%s: the same identity", name)
		}
	}
	if id(OIDC{RoleARN: role, ProviderARN: provider, Token: "t1"}) == id(OIDC{RoleARN: role, ProviderARN: provider, Token: "t2"}) {
		t.Error("without a subject, two tokens are one identity")
	}
}
