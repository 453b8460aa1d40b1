// Package acr knows Alibaba Cloud Container Registry hosts, with the standard library only:
//   - host.go: the helper's one grammar of registry hosts, ports and region ids (ParseHostPort,
//     ValidRegion), which config, configure-docker and the endpoint overrides use too;
//   - registry.go: which ACR edition, region and instance a server URL names (Parse);
//   - pattern.go: the kubelet's matchImages patterns (CheckMatchImage);
//   - arn.go: account ids, RAM role and OIDC provider ARNs and instance ids (ValidAccount,
//     ParseRoleARN, ParseProviderARN, ValidInstanceID), the one rule every check uses;
//   - challenge.go, authenticate.go: what a registry's anonymous /v2/ challenge says about the instance
//     behind a host, and reading it (ReadChallenge).
//
// The ACR API calls, which need the SDK, live in acr/crapi.
package acr

import (
	"strconv"
	"strings"
)

// Edition says which kind of ACR instance a host belongs to.
type Edition int

const (
	// EditionUnknown is a host that is not an ACR default domain (it may still be a configured custom domain).
	EditionUnknown Edition = iota
	// EditionPersonal is the classic Personal Edition:
	// registry[-vpc|-internal|-intl|-intl-vpc].<region>.aliyuncs.com, and registry.aliyuncs.com
	// (cn-hangzhou).
	EditionPersonal
	// EditionPersonalInstance is a Personal Edition instance created since 2024-09:
	// crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com.
	EditionPersonalInstance
	// EditionEnterprise is an Enterprise Edition default domain: <name>-registry[-vpc].<region>.cr.aliyuncs.com,
	// and the P2P form <name>-registry-vpc.distributed.<region>.cr.aliyuncs.com.
	EditionEnterprise
)

// String returns "unknown", "personal", "personal-instance" or "enterprise".
func (e Edition) String() string {
	switch e {
	case EditionUnknown:
		return "unknown"
	case EditionPersonal:
		return "personal"
	case EditionPersonalInstance:
		return "personal-instance"
	case EditionEnterprise:
		return "enterprise"
	}
	return "Edition(" + strconv.Itoa(int(e)) + ")"
}

// Registry is what a registry host says about itself.
type Registry struct {
	// Host is the canonical host: lower case, ":port" kept unless it is 443 (so "a:443" → "a").
	// IPv6 literals keep their brackets ("[::1]:5000"). This is the cache/store key.
	Host string
	// Hostname is Host without the port (and, for IPv6 literals, without brackets).
	Hostname string
	// Port is "" when absent or 443.
	Port    string
	Edition Edition
	// Region is the region id, e.g. cn-hangzhou or cn-shanghai-finance-1.
	Region string
	// InstanceName is the instance name of an Enterprise default domain
	// ("team" for team-registry.cn-beijing.cr.aliyuncs.com).
	InstanceName string
	// InstanceID is the id of a Personal instance ("crpi-xxxx").
	InstanceID string
	// VPC is set for the -vpc, -internal, -intl-vpc and distributed forms.
	VPC bool
	// Intl is set for the registry-intl[-vpc] forms.
	Intl bool
	// P2P is set for the …distributed… form.
	P2P bool
}

const aliyunSuffix = ".aliyuncs.com"

// personalDefaultRegion is the region of the region-less Personal registry registry.aliyuncs.com.
const personalDefaultRegion = "cn-hangzhou"

// isInstanceName matches 3–30 characters of [a-z0-9-], not starting or ending with '-'.
func isInstanceName(s string) bool {
	if len(s) < 3 || len(s) > 30 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Parse reads what a client sends as a server URL (host, host:port, https://host[:port][/path],
// http://…, any case, surrounding ASCII whitespace; the host as ParseHostPort says, a path is dropped)
// and classifies the host. A valid host that is not an ACR default domain gives
// Registry{Edition: EditionUnknown} and no error. The port does not take part in classification.
// Userinfo, query, fragment, backslashes, schemes other than http and https and inputs over 1 KiB are
// rejected. The error is a *HostError and never echoes the input.
func Parse(serverURL string) (Registry, error) {
	h, err := parseServerURL(serverURL)
	if err != nil {
		return Registry{}, err
	}
	r := Registry{Host: h.Key(), Hostname: h.Hostname, Port: h.Port}
	if r.Port == "443" {
		r.Port = ""
	}
	if !h.IP {
		classify(&r)
	}
	return r, nil
}

// classify fills in the ACR fields of r from r.Hostname, which is a valid lower-case host name.
func classify(r *Registry) {
	rest, ok := strings.CutSuffix(r.Hostname, aliyunSuffix)
	if !ok {
		return
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	switch {
	case n == 1 && labels[0] == "registry":
		// registry.aliyuncs.com, without region, is the cn-hangzhou Personal registry: a real
		// token's audience for it is "registry.aliyuncs.com:cn-hangzhou:26842" (issue 10; the
		// fixed image names registry.aliyuncs.com/acs/… in Alibaba's own docs pull from it).
		r.Edition, r.Region = EditionPersonal, personalDefaultRegion

	case n == 2:
		// registry[-vpc|-internal|-intl|-intl-vpc].<region>.aliyuncs.com
		var vpc, intl bool
		switch labels[0] {
		case "registry":
		case "registry-vpc", "registry-internal":
			vpc = true
		case "registry-intl":
			intl = true
		case "registry-intl-vpc":
			intl, vpc = true, true
		default:
			return
		}
		if !ValidRegion(labels[1]) {
			return
		}
		r.Edition, r.Region, r.VPC, r.Intl = EditionPersonal, labels[1], vpc, intl

	case n == 4 && labels[2] == "personal" && labels[3] == "cr":
		// crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com
		l, ok := strings.CutPrefix(labels[0], "crpi-")
		if !ok || !ValidRegion(labels[1]) {
			return
		}
		vpc := false
		if id, found := strings.CutSuffix(l, "-vpc"); found && isAlnum(id) {
			l, vpc = id, true
		}
		if !isAlnum(l) {
			return
		}
		r.Edition, r.Region, r.InstanceID, r.VPC = EditionPersonalInstance, labels[1], "crpi-"+l, vpc

	case n == 3 && labels[2] == "cr":
		// <name>-registry[-vpc].<region>.cr.aliyuncs.com; the name is cut from the right.
		if !ValidRegion(labels[1]) {
			return
		}
		vpc := false
		name, found := strings.CutSuffix(labels[0], "-registry-vpc")
		if found {
			vpc = true
		} else if name, found = strings.CutSuffix(labels[0], "-registry"); !found {
			return
		}
		if !isInstanceName(name) {
			return
		}
		r.Edition, r.Region, r.InstanceName, r.VPC = EditionEnterprise, labels[1], name, vpc

	case n == 4 && labels[1] == "distributed" && labels[3] == "cr":
		// <name>-registry-vpc.distributed.<region>.cr.aliyuncs.com (P2P acceleration, VPC only)
		name, found := strings.CutSuffix(labels[0], "-registry-vpc")
		if !found || !isInstanceName(name) || !ValidRegion(labels[2]) {
			return
		}
		r.Edition, r.Region, r.InstanceName, r.VPC, r.P2P = EditionEnterprise, labels[2], name, true, true
	}
}

// IsACR reports whether the host is an ACR default domain.
func (r Registry) IsACR() bool {
	return r.Edition != EditionUnknown
}

// MatchesDomain reports whether a configured domain entry d ("registry.example.com" or
// "registry.example.com:5443", any case, surrounding whitespace ignored) names this host. An entry without
// port matches the host with no port or port 443; any other port must be listed. Entries with a scheme,
// path, userinfo or anything else that is not host[:port] match nothing.
func (r Registry) MatchesDomain(d string) bool {
	if r.Host == "" || strings.Contains(d, "/") {
		return false
	}
	h, err := parseServerURL(d)
	return err == nil && h.Key() == r.Host
}
