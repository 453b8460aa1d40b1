package acr

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckMatchImage(t *testing.T) {
	tests := []struct {
		in     string
		reason string // "" for accepted; else a part of the *HostError's reason
	}{
		// The helper's own defaults (credhelper's KubeletMatchImages).
		{"registry*.*.aliyuncs.com", ""},
		{"crpi-*.*.personal.cr.aliyuncs.com", ""},
		{"*-registry*.*.cr.aliyuncs.com", ""},
		{"*-registry-vpc.distributed.*.cr.aliyuncs.com", ""},
		{"*-registry-vpc.distributed.*.cr.aliyuncs.com:65001", ""},
		// Users' additions.
		{"registry.example.com", ""},
		{"Registry.Example.com:5000/Team", ""},
		{"registry.example.com:5000/team/app", ""},
		{"registry.example.com/", ""},
		{"*.example.org", ""},
		{"k8s.*", ""},
		{"app*.k8s.io", ""},
		{"10.0.0.1:5000/ns", ""},
		{"[::1]:5000", ""},
		{"[2001:db8::1]/ns", ""},
		// Rejected.
		{"", "want host[:port][/path]"},
		{"https://registry.example.com", "no scheme"},
		{"registry.example.com:*", "host only"},
		{"registry.example.com/*", "host only"},
		{"registry.example.com/[a]", "host only"},
		{"*.example.com:5000/team*", "host only"},
		{"registry.example.com:70000", "port must be a number from 1 to 65535"},
		{"registry.example.com:05000", "port must be a number from 1 to 65535"},
		{"*.example.com:0", "port must be a number from 1 to 65535"},
		{"a\nb", "want host[:port][/path]"},
		{"registry example.com", "want host[:port][/path]"},
		{"user@registry.example.com", "want host[:port][/path]"},
		{"registry.example.com?x=1", "want host[:port][/path]"},
		{"registry.example.com#x", "want host[:port][/path]"},
		{"registry.example.com/a%2fb", "want host[:port][/path]"},
		{"registry.example.com/a:b", "a path has only"},
		{"*..example.com", "empty label"},
		{"*.example.com.", "empty label"},
		{"under_score.*.com", "a host name has only"},
		{"*_x.example.com", "a host pattern has only"},
		{"[a-c]-registry.example.com", "IPv6"},
		{"a[b]c.example.com", "a host name has only"},
		{"*[b]c.example.com", "a host pattern has only"},
		{"*.example.com/a!b", "a path has only"},
		{"-a.example.com", "starts or ends with '-'"},
		{"2001:db8::1", "in brackets"},
		{"[::1", "unclosed"},
		{"256.1.1.1", "IPv4"},
		{strings.Repeat("a", 64) + ".*.com", "longer than 63"},
	}
	for _, tt := range tests {
		err := CheckMatchImage(tt.in)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("CheckMatchImage(%q) = %v, want nil", tt.in, err)
			}
			continue
		}
		var he *HostError
		if !errors.As(err, &he) || !strings.Contains(he.Reason, tt.reason) {
			t.Errorf("CheckMatchImage(%q) = %v, want a *HostError saying %q", tt.in, err, tt.reason)
		}
	}
}

// TestCheckMatchImageTakesEveryHost: a pattern without glob or path is a host[:port] of the one
// grammar.
func TestCheckMatchImageTakesEveryHost(t *testing.T) {
	for _, c := range loadHostGrammar(t).HostPorts {
		if !c.OK && strings.ContainsAny(c.In, "*/") {
			continue // a glob or a path: fine in a pattern, not in a host
		}
		if err := CheckMatchImage(c.In); (err == nil) != c.OK {
			t.Errorf("CheckMatchImage(%q) = %v; want ok=%v", c.In, err, c.OK)
		}
	}
}
