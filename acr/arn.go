package acr

// The one home of the identifier rules the helper checks besides hosts and regions: Alibaba Cloud
// account ids, RAM role and OIDC provider ARNs, and ACR instance ids. The settings reader, the
// keychain, the kubelet's per-workload identity, print-kubelet-config, the secret references and
// the RAM policy writer all ask here, so that an identifier one of them accepts is accepted by all
// (before, a 24-digit account passed `doctor` and failed `doctor --policy`). No regexp: no
// start-up cost for the cached get.

import "strings"

// ValidAccount reports whether s is an account id: 1 to 20 decimal digits (real ones have 16;
// 20 is what a uint64 can hold, and what RAM resource names are checked against).
func ValidAccount(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RoleARN is a RAM role ARN acs:ram::<account>:role/<name>.
type RoleARN struct{ Account, Name string }

// String is the ARN.
func (r RoleARN) String() string { return "acs:ram::" + r.Account + ":role/" + r.Name }

// ParseRoleARN reads a RAM role ARN: acs:ram::<account>:role/<name>, the name 1 to 64 letters,
// digits or . @ _ - (RAM's role name characters). Role names are case-insensitive in RAM; the
// name is kept as written.
func ParseRoleARN(s string) (RoleARN, bool) {
	acct, name, ok := ramResource(s, "role/")
	if !ok || len(name) > 64 || !nameChars(name, ".@_-") {
		return RoleARN{}, false
	}
	return RoleARN{Account: acct, Name: name}, true
}

// ProviderARN is a RAM OIDC identity provider ARN acs:ram::<account>:oidc-provider/<name>.
type ProviderARN struct{ Account, Name string }

// String is the ARN.
func (p ProviderARN) String() string { return "acs:ram::" + p.Account + ":oidc-provider/" + p.Name }

// ParseProviderARN reads an OIDC provider ARN: acs:ram::<account>:oidc-provider/<name>, the name 1
// to 128 letters, digits or . _ - (ACK's are ack-rrsa-<cluster id>).
func ParseProviderARN(s string) (ProviderARN, bool) {
	acct, name, ok := ramResource(s, "oidc-provider/")
	if !ok || len(name) > 128 || !nameChars(name, "._-") {
		return ProviderARN{}, false
	}
	return ProviderARN{Account: acct, Name: name}, true
}

// ValidInstanceID reports whether s is an ACR instance id: cri- (Enterprise Edition) or crpi-
// (Personal Edition instance) and 1 to 32 lower-case letters or digits (16 in every id seen).
func ValidInstanceID(s string) bool {
	rest, ok := strings.CutPrefix(s, "cri-")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "crpi-"); !ok {
			return false
		}
	}
	if len(rest) == 0 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ramResource splits acs:ram::<account>:<kind><name>.
func ramResource(s, kind string) (account, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "acs:ram::")
	if !ok {
		return "", "", false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || !ValidAccount(account) {
		return "", "", false
	}
	name, ok = strings.CutPrefix(res, kind)
	if !ok || name == "" {
		return "", "", false
	}
	return account, name, true
}

// nameChars reports whether s holds only ASCII letters, digits and the bytes of extra.
func nameChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0 {
			continue
		}
		return false
	}
	return true
}
