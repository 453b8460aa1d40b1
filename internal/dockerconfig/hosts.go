package dockerconfig

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// NormalizeHost turns a registry given on the command line into the key docker looks up in
// credHelpers: a lower-case host[:port]. It strips an http:// or https:// scheme and trailing
// slashes, and lower-cases, saying so in note; it rejects anything else that is not a host name,
// an IPv4 address or a bracketed IPv6 address with an optional port.
func NormalizeHost(s string) (host, note string, err error) {
	orig := s
	s = strings.TrimSpace(s)
	var notes []string
	if lower := strings.ToLower(s); lower != s {
		s = lower
		notes = append(notes, "lower-cased")
	}
	for _, scheme := range []string{"https://", "http://"} {
		if strings.HasPrefix(s, scheme) {
			s = s[len(scheme):]
			notes = append(notes, "dropped the scheme "+scheme)
			break
		}
	}
	if t := strings.TrimRight(s, "/"); t != s {
		s = t
		notes = append(notes, "dropped the trailing /")
	}
	if s == "" {
		return "", "", fmt.Errorf("%q is not a registry host: write it as registry.example.com or registry.example.com:5443", orig)
	}
	if strings.ContainsAny(s, "/?#@") || strings.Contains(s, "://") {
		return "", "", fmt.Errorf("%q is not a registry host: give only host[:port], without scheme, user, path or query (docker looks the helper up by host)", orig)
	}
	if err := validHostPort(s); err != nil {
		return "", "", fmt.Errorf("%q is not a registry host: %v", orig, err)
	}
	if len(notes) > 0 {
		note = fmt.Sprintf("%q: %s, using %s", orig, strings.Join(notes, ", "), s)
	}
	return s, note, nil
}

func validHostPort(s string) error {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("unclosed [ of an IPv6 address")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return fmt.Errorf("unexpected %q after the IPv6 address", port)
			}
			port = port[1:]
			if err := validPort(port); err != nil {
				return err
			}
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
		return nil
	}
	switch strings.Count(s, ":") {
	case 0:
	case 1:
		i := strings.IndexByte(s, ':')
		host, port = s[:i], s[i+1:]
		if err := validPort(port); err != nil {
			return err
		}
	default:
		return fmt.Errorf("an IPv6 address goes in brackets: [2001:db8::1]:5000")
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		return nil
	}
	if host == "" || len(host) > 253 {
		return fmt.Errorf("the host name must have 1 to 253 characters")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("empty or overlong label in %q", host)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q has a character a host name cannot have: %q", host, c)
			}
		}
	}
	return nil
}

func validPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '0' || p[0] == '+' {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return nil
}
