package acr

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the helper's one grammar of registry hosts, ports and region ids. config (domains,
// regionId), internal/dockerconfig (configure-docker) and internal/cloudapi (endpoint overrides) use it,
// so that what one accepts the others accept too.

// HostError says why a string is not a registry host. It never holds the input itself, which may carry a
// password (user:pass@host): callers that may show the input add it themselves.
type HostError struct {
	Reason string // e.g. "port must be a number from 1 to 65535"
}

func (e *HostError) Error() string { return "not a registry host: " + e.Reason }

func notHost(reason string) error { return &HostError{Reason: reason} }

// HostPort is a validated host[:port].
type HostPort struct {
	// Hostname is a lower-case host name, a dotted-quad IPv4 address or an IPv6 address in its canonical
	// form (without brackets, "2001:db8::1").
	Hostname string
	// Port is the port as written (decimal, 1..65535, no sign or leading zero), or "" when absent.
	// Port 443 is kept here; Key drops it.
	Port string
	// IP is set when Hostname is an IPv4 or IPv6 address.
	IP bool
}

// String returns hostname[:port] with IPv6 addresses in brackets, keeping any port.
func (h HostPort) String() string {
	s := h.Hostname
	if strings.IndexByte(s, ':') >= 0 {
		s = "[" + s + "]"
	}
	if h.Port != "" {
		s += ":" + h.Port
	}
	return s
}

// Key is the canonical host the helper stores and matches logins under: String without port 443 (the
// port an https registry has when none is written).
func (h HostPort) Key() string {
	if h.Port == "443" {
		h.Port = ""
	}
	return h.String()
}

const (
	maxInputLen    = 1024
	maxHostnameLen = 253
	maxLabelLen    = 63
)

// ParseHostPort parses exactly "host", "host:port", "[ipv6]" or "[ipv6]:port", in any case. The host is
// a DNS name of labels [a-z0-9-] (1 to 63 characters, not starting or ending with '-'; 253 characters in
// all; no trailing dot; a name whose last label is all digits must be an IPv4 address), a dotted-quad
// IPv4 address, or an IPv6 address in brackets without zone. The port is decimal 1..65535 without sign
// or leading zeros. Nothing else is allowed: no scheme, path, userinfo, whitespace, percent-encoding or
// non-ASCII. The error is a *HostError.
func ParseHostPort(s string) (HostPort, error) {
	if len(s) > maxInputLen {
		return HostPort{}, notHost("longer than 1 KiB")
	}
	if s == "" {
		return HostPort{}, notHost("empty host")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return HostPort{}, notHost("whitespace, control or non-ASCII character")
		}
	}
	s = strings.ToLower(s)
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return HostPort{}, notHost("unclosed [ of an IPv6 address")
		}
		h := HostPort{IP: true}
		if after := s[end+1:]; after != "" {
			if after[0] != ':' {
				return HostPort{}, notHost("only :port may follow an IPv6 address in brackets")
			}
			h.Port = after[1:]
			if err := checkPort(h.Port); err != nil {
				return HostPort{}, err
			}
		}
		addr, err := netip.ParseAddr(s[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return HostPort{}, notHost("not an IPv6 address between the brackets (no zone, no IPv4)")
		}
		h.Hostname = addr.String()
		return h, nil
	}
	h := HostPort{Hostname: s}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		h.Hostname, h.Port = s[:i], s[i+1:]
		if strings.IndexByte(h.Port, ':') >= 0 {
			return HostPort{}, notHost("an IPv6 address goes in brackets, as in [2001:db8::1]:5000")
		}
		if err := checkPort(h.Port); err != nil {
			return HostPort{}, err
		}
	}
	ip, err := checkHostname(h.Hostname)
	if err != nil {
		return HostPort{}, err
	}
	h.IP = ip
	return h, nil
}

// ValidRegion reports whether s is a region id as Alibaba Cloud writes them (cn-hangzhou,
// cn-shanghai-finance-1, ap-southeast-1): words of [a-z0-9] joined by single '-', 2 to 63 characters
// (a region is a label of the API and registry host names).
func ValidRegion(s string) bool {
	if len(s) < 2 || len(s) > maxLabelLen {
		return false
	}
	for _, part := range strings.Split(s, "-") {
		if !isAlnum(part) {
			return false
		}
	}
	return true
}

// parseServerURL is the part of Parse that finds the host: it takes what clients send (host,
// host:port, https://host[:port][/path], http://…, any case, surrounding ASCII whitespace) and checks
// the host with ParseHostPort. A path after the host is dropped. Userinfo, query, fragment, backslashes,
// schemes other than http and https and inputs over 1 KiB are rejected.
func parseServerURL(s string) (HostPort, error) {
	if len(s) > maxInputLen {
		return HostPort{}, notHost("longer than 1 KiB")
	}
	if !utf8.ValidString(s) {
		return HostPort{}, notHost("invalid UTF-8")
	}
	s = strings.Trim(s, " \t\r\n\v\f")
	if s == "" {
		return HostPort{}, notHost("empty")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return HostPort{}, notHost("non-ASCII character")
		case c <= ' ' || c == 0x7f:
			return HostPort{}, notHost("whitespace or control character")
		case c == '@':
			return HostPort{}, notHost("userinfo is not allowed")
		case c == '?':
			return HostPort{}, notHost("query is not allowed")
		case c == '#':
			return HostPort{}, notHost("fragment is not allowed")
		case c == '\\':
			return HostPort{}, notHost("backslash is not allowed")
		}
	}
	// A scheme is only a scheme when "://" comes before any other '/'.
	rest := s
	if i := strings.Index(s, "://"); i >= 0 && !strings.Contains(s[:i], "/") {
		switch strings.ToLower(s[:i]) {
		case "http", "https":
		default:
			return HostPort{}, notHost("scheme must be http or https")
		}
		rest = s[i+3:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i] // the path is ignored
	}
	return ParseHostPort(rest)
}

// checkPort accepts 1..65535 in decimal without sign or leading zeros.
func checkPort(p string) error {
	if p == "" {
		return notHost("empty port")
	}
	if len(p) > 5 || p[0] == '0' || !isDigits(p) {
		return notHost("port must be a number from 1 to 65535")
	}
	if n, _ := strconv.Atoi(p); n < 1 || n > 65535 {
		return notHost("port must be a number from 1 to 65535")
	}
	return nil
}

// checkHostname validates a lower-case host name or IPv4 literal and says whether it is an IP address.
func checkHostname(h string) (bool, error) {
	if h == "" {
		return false, notHost("empty host")
	}
	if len(h) > maxHostnameLen {
		return false, notHost("host name longer than 253 characters")
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
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return notHost("a host name has only letters, digits, '-' and '.'")
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
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
