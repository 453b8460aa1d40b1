package acr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
)

// hostGrammar is testdata/hostgrammar.json, the table config, internal/dockerconfig and
// internal/cloudapi check their own entry points against too.
type hostGrammar struct {
	HostPorts []grammarCase `json:"hostPorts"`
	Regions   []grammarCase `json:"regions"`
}

type grammarCase struct {
	In string `json:"in"`
	OK bool   `json:"ok"`
}

func loadHostGrammar(t *testing.T) hostGrammar {
	t.Helper()
	data, err := os.ReadFile("testdata/hostgrammar.json")
	if err != nil {
		t.Fatal(err)
	}
	var g hostGrammar
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.HostPorts) < 40 || len(g.Regions) < 15 {
		t.Fatalf("table too small: %d host ports, %d regions", len(g.HostPorts), len(g.Regions))
	}
	return g
}

func TestHostGrammarTable(t *testing.T) {
	g := loadHostGrammar(t)
	for _, c := range g.HostPorts {
		h, err := ParseHostPort(c.In)
		if (err == nil) != c.OK {
			t.Errorf("ParseHostPort(%q) = %+v, %v; want ok=%v", c.In, h, err, c.OK)
			continue
		}
		if err != nil {
			if he := (*HostError)(nil); !errors.As(err, &he) || he.Reason == "" {
				t.Errorf("ParseHostPort(%q) error %v is not a *HostError with a reason", c.In, err)
			}
			if h != (HostPort{}) {
				t.Errorf("ParseHostPort(%q) returned %+v with an error", c.In, h)
			}
			continue
		}
		// What ParseHostPort accepts, a client may send as a server URL, and a configured domain
		// written that way matches it.
		r, err := Parse(c.In)
		if err != nil || r.Host != h.Key() || !r.MatchesDomain(c.In) {
			t.Errorf("Parse(%q) = %+v, %v; ParseHostPort key %q", c.In, r, err, h.Key())
		}
		if again, err := ParseHostPort(h.String()); err != nil || again != h {
			t.Errorf("ParseHostPort(String() %q) = %+v, %v; want %+v", h.String(), again, err, h)
		}
	}
	for _, c := range g.Regions {
		if got := ValidRegion(c.In); got != c.OK {
			t.Errorf("ValidRegion(%q) = %v, want %v", c.In, got, c.OK)
		}
		// A region is a region in a registry host and in a challenge too.
		host := "registry." + c.In + ".aliyuncs.com"
		r, err := Parse(host)
		if c.OK != (err == nil && r.Edition == EditionPersonal && r.Region == c.In) && c.In == strings.ToLower(c.In) {
			t.Errorf("Parse(%q) = %+v, %v; region ok=%v", host, r, err, c.OK)
		}
		header := fmt.Sprintf(`Bearer realm="https://dockerauth.%s.aliyuncs.com/auth",service="registry.aliyuncs.com:%s:26842"`, c.In, c.In)
		if ch, err := ParseChallenge(header); (err == nil && ch.Region == c.In) != c.OK {
			t.Errorf("ParseChallenge(region %q) = %+v, %v; want ok=%v", c.In, ch, err, c.OK)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in                  string
		want                HostPort
		str, key, errReason string
	}{
		{in: "Registry.Example.com", want: HostPort{Hostname: "registry.example.com"}, str: "registry.example.com", key: "registry.example.com"},
		{in: "registry.example.com:443", want: HostPort{Hostname: "registry.example.com", Port: "443"}, str: "registry.example.com:443", key: "registry.example.com"},
		{in: "registry.example.com:5443", want: HostPort{Hostname: "registry.example.com", Port: "5443"}, str: "registry.example.com:5443", key: "registry.example.com:5443"},
		{in: "10.0.0.1:443", want: HostPort{Hostname: "10.0.0.1", Port: "443", IP: true}, str: "10.0.0.1:443", key: "10.0.0.1"},
		{in: "[::1]:5000", want: HostPort{Hostname: "::1", Port: "5000", IP: true}, str: "[::1]:5000", key: "[::1]:5000"},
		{in: "[2001:DB8:0:0::1]", want: HostPort{Hostname: "2001:db8::1", IP: true}, str: "[2001:db8::1]", key: "[2001:db8::1]"},
		{in: "x.example.com:0", errReason: "port must be a number from 1 to 65535"},
		{in: "2001:db8::1", errReason: "an IPv6 address goes in brackets, as in [2001:db8::1]:5000"},
		{in: "under_score.example.com", errReason: "a host name has only letters, digits, '-' and '.'"},
		{in: "[::1", errReason: "unclosed [ of an IPv6 address"},
	}
	for _, tt := range tests {
		h, err := ParseHostPort(tt.in)
		if tt.errReason != "" {
			var he *HostError
			if !errors.As(err, &he) || he.Reason != tt.errReason {
				t.Errorf("ParseHostPort(%q) = %+v, %v; want reason %q", tt.in, h, err, tt.errReason)
			}
			continue
		}
		if err != nil || h != tt.want || h.String() != tt.str || h.Key() != tt.key {
			t.Errorf("ParseHostPort(%q) = %+v (%q, key %q), %v; want %+v (%q, key %q)", tt.in, h, h.String(), h.Key(), err, tt.want, tt.str, tt.key)
		}
	}
}

func TestHostErrorDoesNotEchoInput(t *testing.T) {
	for _, in := range []string{"user:s3cret@registry.example.com", "s3cret..example.com", "s3cret.example.com:s3cret", "[s3cret]"} {
		_, err := ParseHostPort(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseHostPort(%q) error %v", in, err)
		}
	}
}

func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"registry.example.com", "Registry.Example.com:5443", "10.0.0.1:443", "[::1]:5000", "[2001:DB8::1]", "a..b", "x:0", "[fe80::1%eth0]", "1.2.3.999"} {
		f.Add(s)
	}
	// The shared look-alikes and malformed hosts (testdata/hostile/hosts.json).
	for _, h := range testkit.HostileHosts() {
		f.Add(h.Input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHostPort(s)
		if err != nil {
			if he := (*HostError)(nil); !errors.As(err, &he) || h != (HostPort{}) {
				t.Fatalf("ParseHostPort(%q) = %+v, %v", s, h, err)
			}
			return
		}
		// One grammar: what is a host[:port] is a server URL, a configured domain that matches it,
		// and a matchImages pattern.
		again, err := ParseHostPort(h.String())
		if err != nil || again != h {
			t.Fatalf("ParseHostPort(%q) = %+v; its String %q gives %+v, %v", s, h, h.String(), again, err)
		}
		r, err := Parse(s)
		if err != nil || r.Host != h.Key() || !r.MatchesDomain(s) {
			t.Fatalf("Parse(%q) = %+v, %v; ParseHostPort key %q", s, r, err, h.Key())
		}
		if err := CheckMatchImage(s); err != nil {
			t.Fatalf("CheckMatchImage(%q) = %v for a valid host", s, err)
		}
	})
}
