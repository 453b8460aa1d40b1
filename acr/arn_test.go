package acr

import (
	"strings"
	"testing"
)

func TestAccount(t *testing.T) {
	for s, want := range map[string]bool{
		"1111111111111111": true, "1": true, strings.Repeat("9", 20): true,
		strings.Repeat("1", 24): false, "": false, "12a4": false, "-1": false, " 1": false, "１": false,
	} {
		if got := ValidAccount(s); got != want {
			t.Errorf("ValidAccount(%q) = %v", s, got)
		}
	}
}

func TestRoleARN(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want RoleARN
		ok   bool
	}{
		{"acs:ram::1111111111111111:role/puller", RoleARN{"1111111111111111", "puller"}, true},
		{"acs:ram::1:role/a.b@c_d-E", RoleARN{"1", "a.b@c_d-E"}, true},
		{"acs:ram::" + strings.Repeat("1", 24) + ":role/puller", RoleARN{}, false}, // the account doctor used to take
		{"acs:ram::1111111111111111:role/" + strings.Repeat("a", 65), RoleARN{}, false},
		{"acs:ram::1111111111111111:role/", RoleARN{}, false},
		{"acs:ram::1111111111111111:role/a/b", RoleARN{}, false},
		{"acs:ram::1111111111111111:user/puller", RoleARN{}, false},
		{"acs:ram::1111111111111111:oidc-provider/x", RoleARN{}, false},
		{"acs:ram:cn-hangzhou:1111111111111111:role/x", RoleARN{}, false},
		{"acs:ram::abc:role/x", RoleARN{}, false},
		{" acs:ram::1:role/x", RoleARN{}, false},
		{"acs:ram::1:role/x ", RoleARN{}, false},
	} {
		got, ok := ParseRoleARN(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseRoleARN(%q) = %+v, %v", tt.in, got, ok)
		}
		if ok && got.String() != tt.in {
			t.Errorf("%q round-trips to %q", tt.in, got.String())
		}
	}
}

func TestProviderARN(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"acs:ram::1111111111111111:oidc-provider/ack-rrsa-c0123456789abcdef", true},
		{"acs:ram::1111111111111111:oidc-provider/" + strings.Repeat("a", 128), true},
		{"acs:ram::1111111111111111:oidc-provider/" + strings.Repeat("a", 129), false},
		{"acs:ram::1111111111111111:oidc-provider/a@b", false},
		{"acs:ram::" + strings.Repeat("1", 24) + ":oidc-provider/x", false},
		{"acs:ram::1111111111111111:role/x", false},
	} {
		if p, ok := ParseProviderARN(tt.in); ok != tt.ok || (ok && p.String() != tt.in) {
			t.Errorf("ParseProviderARN(%q) = %+v, %v", tt.in, p, ok)
		}
	}
}

func TestInstanceID(t *testing.T) {
	for s, want := range map[string]bool{
		"cri-abcdefgh12345678": true, "crpi-abcdefgh12345678": true, "cri-a": true,
		"cri-": false, "cri-ABCDEFGH12345678": false, "cri-" + strings.Repeat("a", 33): false,
		"crx-abcdefgh12345678": false, "abcdefgh12345678": false, "cri-abc/def": false,
	} {
		if got := ValidInstanceID(s); got != want {
			t.Errorf("ValidInstanceID(%q) = %v", s, got)
		}
	}
}
