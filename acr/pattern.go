package acr

import "strings"

// CheckMatchImage checks an entry of the kubelet's matchImages as the helper writes it into a
// credential provider config: host[:port][/path], any case. The host follows ParseHostPort, except that
// its labels may also hold '*', which the kubelet matches against part of exactly one label (it matches
// label by label; its other globs, ? and [...], are not taken: they would read as a query and an IPv6
// literal). The port and the path have no globs; the path is '/'-separated letters, digits and
// - . _ ~. No scheme, userinfo, query, fragment, whitespace or quotes. The error is a *HostError whose
// reason says what to write.
func CheckMatchImage(pattern string) error {
	if pattern == "" || len(pattern) > maxInputLen {
		return notHost("want host[:port][/path], e.g. registry.example.com")
	}
	if strings.Contains(pattern, "://") {
		return notHost("no scheme: write host[:port][/path]")
	}
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"'#\\@?%", c) >= 0 {
			return notHost("want host[:port][/path], e.g. registry.example.com")
		}
	}
	hostport, path, hasPath := strings.Cut(strings.ToLower(pattern), "/")
	if hasPath {
		if strings.ContainsAny(path, "*[]") { // '?' is a query, refused above
			return notHost("globs are allowed in the host only")
		}
		for i := 0; i < len(path); i++ {
			if c := path[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
				return notHost("a path has only letters, digits and - . _ ~ /")
			}
		}
	}
	if !strings.Contains(hostport, "*") || strings.HasPrefix(hostport, "[") {
		_, err := ParseHostPort(hostport)
		return err
	}
	host, port, hasPort := strings.Cut(hostport, ":")
	if hasPort {
		if strings.Contains(port, "*") {
			return notHost("globs are allowed in the host only")
		}
		if err := checkPort(port); err != nil {
			return err
		}
	}
	if host == "" || len(host) > maxHostnameLen {
		return notHost("want host[:port][/path], e.g. registry.example.com")
	}
	for _, l := range strings.Split(host, ".") {
		if err := checkGlobLabel(l); err != nil {
			return err
		}
	}
	return nil
}

// checkGlobLabel checks one host label of a matchImages pattern: [a-z0-9-] and '*'.
func checkGlobLabel(l string) error {
	if l == "" || len(l) > maxLabelLen {
		return notHost("empty label or label longer than 63 characters")
	}
	if !strings.Contains(l, "*") {
		return checkLabel(l)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '*') {
			return notHost("a host pattern has only letters, digits, '-', '*' and '.'")
		}
	}
	return nil
}
