// Package acr knows Alibaba Cloud Container Registry host names and the ACR API.
package acr

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Edition says which kind of ACR instance a host belongs to.
type Edition int

const (
	// EditionUnknown is a host that is not an ACR default domain (it may still be a configured custom domain).
	EditionUnknown Edition = iota
	// EditionPersonal is the classic Personal Edition:
	// registry[-vpc|-internal|-intl|-intl-vpc].<region>.aliyuncs.com.
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

// ErrNotRegistryHost means the input is not a registry host at all.
var ErrNotRegistryHost = errors.New("not a registry host")

const (
	maxInputLen    = 1024
	maxHostnameLen = 253
	maxLabelLen    = 63
	aliyunSuffix   = ".aliyuncs.com"
)

func notHost(reason string) error {
	// The input itself is never echoed: it may carry a password (user:pass@host).
	return fmt.Errorf("%w: %s", ErrNotRegistryHost, reason)
}

// ParseServerURL turns what a client sends (host, host:port, https://host[:port][/path], http://…, any
// case, surrounding ASCII whitespace) into a canonical host: lower case, without port 443. A path after the
// host is dropped. IPv4 and IPv6 literals are valid hosts. Everything else that is not a plain host name
// (userinfo, query, fragment, whitespace or control characters inside, non-ASCII, percent-encoding or
// backslashes in the host, schemes other than http and https, trailing dots, bad labels, bad ports, inputs
// over 1 KiB) is rejected with an error that wraps ErrNotRegistryHost.
func ParseServerURL(s string) (string, error) {
	h, err := parseHost(s)
	if err != nil {
		return "", err
	}
	return h.host, nil
}

type hostParts struct {
	host     string // canonical host[:port]
	hostname string // without port and brackets
	port     string // "" or a port other than 443
	ip       bool
}

func parseHost(s string) (hostParts, error) {
	if len(s) > maxInputLen {
		return hostParts{}, notHost("input longer than 1 KiB")
	}
	if !utf8.ValidString(s) {
		return hostParts{}, notHost("invalid UTF-8")
	}
	s = strings.Trim(s, " \t\r\n\v\f")
	if s == "" {
		return hostParts{}, notHost("empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return hostParts{}, notHost("non-ASCII character")
		case c <= ' ' || c == 0x7f:
			return hostParts{}, notHost("whitespace or control character")
		case c == '@':
			return hostParts{}, notHost("userinfo is not allowed")
		case c == '?':
			return hostParts{}, notHost("query is not allowed")
		case c == '#':
			return hostParts{}, notHost("fragment is not allowed")
		case c == '\\':
			return hostParts{}, notHost("backslash is not allowed")
		}
	}

	// A scheme is only a scheme when "://" comes before any other '/'.
	rest := s
	if i := strings.Index(s, "://"); i >= 0 && !strings.Contains(s[:i], "/") {
		switch strings.ToLower(s[:i]) {
		case "http", "https":
		default:
			return hostParts{}, notHost("scheme must be http or https")
		}
		rest = s[i+3:]
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority = rest[:i] // the path is ignored
	}
	if authority == "" {
		return hostParts{}, notHost("empty host")
	}
	authority = strings.ToLower(authority)

	var hostname, port string
	if authority[0] == '[' {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return hostParts{}, notHost("unterminated IPv6 literal")
		}
		hostname = authority[1:end]
		after := authority[end+1:]
		if after != "" {
			if after[0] != ':' {
				return hostParts{}, notHost("garbage after IPv6 literal")
			}
			port = after[1:]
			if err := checkPort(port); err != nil {
				return hostParts{}, err
			}
		}
		addr, err := netip.ParseAddr(hostname)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return hostParts{}, notHost("invalid IPv6 literal")
		}
		hostname = addr.String()
		if port == "443" {
			port = ""
		}
		h := hostParts{hostname: hostname, port: port, ip: true, host: "[" + hostname + "]"}
		if port != "" {
			h.host += ":" + port
		}
		return h, nil
	}

	hostname = authority
	if i := strings.IndexByte(authority, ':'); i >= 0 {
		hostname, port = authority[:i], authority[i+1:]
		if strings.IndexByte(port, ':') >= 0 {
			return hostParts{}, notHost("IPv6 literal must be in brackets")
		}
		if err := checkPort(port); err != nil {
			return hostParts{}, err
		}
	}
	ip, err := checkHostname(hostname)
	if err != nil {
		return hostParts{}, err
	}
	if port == "443" {
		port = ""
	}
	h := hostParts{hostname: hostname, port: port, ip: ip, host: hostname}
	if port != "" {
		h.host += ":" + port
	}
	return h, nil
}

// checkPort accepts 1..65535 in decimal without sign or leading zeros.
func checkPort(p string) error {
	if p == "" {
		return notHost("empty port")
	}
	if len(p) > 5 || p[0] == '0' {
		return notHost("port out of range")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return notHost("port is not a number")
		}
	}
	if n, _ := strconv.Atoi(p); n < 1 || n > 65535 {
		return notHost("port out of range")
	}
	return nil
}

// checkHostname validates a lower-case host name or IPv4 literal and says whether it is an IP address.
func checkHostname(h string) (bool, error) {
	if h == "" {
		return false, notHost("empty host")
	}
	if len(h) > maxHostnameLen {
		return false, notHost("host name too long")
	}
	if strings.HasSuffix(h, ".") {
		return false, notHost("trailing dot")
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return false, err
		}
	}
	// A top-level label is never all digits: such a name must be a dotted-quad IPv4 address.
	if isDigits(labels[len(labels)-1]) {
		addr, err := netip.ParseAddr(h)
		if err != nil || !addr.Is4() {
			return false, notHost("invalid IPv4 address")
		}
		return true, nil
	}
	return false, nil
}

func checkLabel(l string) error {
	if l == "" {
		return notHost("empty label")
	}
	if len(l) > maxLabelLen {
		return notHost("label longer than 63 characters")
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return notHost("label starts or ends with '-'")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return notHost("invalid character in host name")
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isRegion matches [a-z0-9]+(-[a-z0-9]+)*.
func isRegion(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, "-") {
		if !isAlnum(part) {
			return false
		}
	}
	return true
}

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

// Parse is ParseServerURL plus classification. A valid host that is not an ACR default domain gives
// Registry{Edition: EditionUnknown} and no error. The port does not take part in classification.
func Parse(serverURL string) (Registry, error) {
	h, err := parseHost(serverURL)
	if err != nil {
		return Registry{}, err
	}
	r := Registry{Host: h.host, Hostname: h.hostname, Port: h.port}
	if !h.ip {
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
		if !isRegion(labels[1]) {
			return
		}
		r.Edition, r.Region, r.VPC, r.Intl = EditionPersonal, labels[1], vpc, intl

	case n == 4 && labels[2] == "personal" && labels[3] == "cr":
		// crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com
		l, ok := strings.CutPrefix(labels[0], "crpi-")
		if !ok || !isRegion(labels[1]) {
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
		if !isRegion(labels[1]) {
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
		if !found || !isInstanceName(name) || !isRegion(labels[2]) {
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
	h, err := ParseServerURL(d)
	return err == nil && h == r.Host
}
