package acr

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
)

func TestParse(t *testing.T) {
	const hz = "registry.cn-hangzhou.aliyuncs.com"
	unknown := func(host, hostname, port string) Registry {
		return Registry{Host: host, Hostname: hostname, Port: port}
	}
	personal := func(host, region string, vpc, intl bool) Registry {
		return Registry{Host: host, Hostname: host, Edition: EditionPersonal, Region: region, VPC: vpc, Intl: intl}
	}
	crpi := func(host, region, id string, vpc bool) Registry {
		return Registry{Host: host, Hostname: host, Edition: EditionPersonalInstance, Region: region, InstanceID: id, VPC: vpc}
	}
	ee := func(host, region, name string, vpc bool) Registry {
		return Registry{Host: host, Hostname: host, Edition: EditionEnterprise, Region: region, InstanceName: name, VPC: vpc}
	}
	withPort := func(r Registry, port string) Registry {
		r.Host, r.Port = r.Hostname+":"+port, port
		return r
	}
	p2p := Registry{
		Host:     "team-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
		Hostname: "team-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com", Port: "65001",
		Edition: EditionEnterprise, Region: "cn-hangzhou", InstanceName: "team", VPC: true, P2P: true,
	}
	longLabel := strings.Repeat("a", 64)
	label63 := strings.Repeat("a", 63)
	host253 := strings.Repeat(label63+".", 3) + strings.Repeat("b", 61)

	tests := []struct {
		name    string
		in      string
		want    Registry
		wantErr bool
	}{
		// Personal Edition, classic.
		{"personal hangzhou", hz, personal(hz, "cn-hangzhou", false, false), false},
		{"personal shanghai", "registry.cn-shanghai.aliyuncs.com", personal("registry.cn-shanghai.aliyuncs.com", "cn-shanghai", false, false), false},
		{"personal finance region", "registry.cn-shanghai-finance-1.aliyuncs.com", personal("registry.cn-shanghai-finance-1.aliyuncs.com", "cn-shanghai-finance-1", false, false), false},
		{"personal vpc", "registry-vpc.cn-beijing.aliyuncs.com", personal("registry-vpc.cn-beijing.aliyuncs.com", "cn-beijing", true, false), false},
		{"personal internal", "registry-internal.cn-shenzhen.aliyuncs.com", personal("registry-internal.cn-shenzhen.aliyuncs.com", "cn-shenzhen", true, false), false},
		{"personal intl", "registry-intl.ap-southeast-1.aliyuncs.com", personal("registry-intl.ap-southeast-1.aliyuncs.com", "ap-southeast-1", false, true), false},
		{"personal intl vpc", "registry-intl-vpc.eu-central-1.aliyuncs.com", personal("registry-intl-vpc.eu-central-1.aliyuncs.com", "eu-central-1", true, true), false},
		{"personal intl cn region", "registry-intl.cn-hangzhou.aliyuncs.com", personal("registry-intl.cn-hangzhou.aliyuncs.com", "cn-hangzhou", false, true), false},
		{"personal us-west-1", "registry.us-west-1.aliyuncs.com", personal("registry.us-west-1.aliyuncs.com", "us-west-1", false, false), false},
		{"personal upper case", "REGISTRY.CN-HANGZHOU.ALIYUNCS.COM", personal(hz, "cn-hangzhou", false, false), false},
		{"personal mixed case", "Registry-VPC.cn-Hangzhou.AliyunCS.com", personal("registry-vpc.cn-hangzhou.aliyuncs.com", "cn-hangzhou", true, false), false},
		{"personal :443 canonicalised", hz + ":443", personal(hz, "cn-hangzhou", false, false), false},
		{"personal :5000 kept", hz + ":5000", withPort(personal(hz, "cn-hangzhou", false, false), "5000"), false},
		{"personal https", "https://" + hz, personal(hz, "cn-hangzhou", false, false), false},
		{"personal https path", "https://" + hz + "/v2/", personal(hz, "cn-hangzhou", false, false), false},
		{"personal https :443 path", "HTTPS://" + strings.ToUpper(hz) + ":443/v1/", personal(hz, "cn-hangzhou", false, false), false},
		{"personal http", "http://" + hz, personal(hz, "cn-hangzhou", false, false), false},
		{"personal http port path", "http://" + hz + ":8080/v2", withPort(personal(hz, "cn-hangzhou", false, false), "8080"), false},
		{"personal host/path", hz + "/v1/", personal(hz, "cn-hangzhou", false, false), false},
		{"personal surrounding whitespace", "  \t" + hz + "\r\n", personal(hz, "cn-hangzhou", false, false), false},
		{"personal trailing newline", hz + "\n", personal(hz, "cn-hangzhou", false, false), false},
		{"personal no region is cn-hangzhou", "registry.aliyuncs.com", personal("registry.aliyuncs.com", "cn-hangzhou", false, false), false},
		{"personal no region, upper case and port", "REGISTRY.aliyuncs.com:443", personal("registry.aliyuncs.com", "cn-hangzhou", false, false), false},
		{"vpc without region is not known", "registry-vpc.aliyuncs.com", unknown("registry-vpc.aliyuncs.com", "registry-vpc.aliyuncs.com", ""), false},
		{"bare aliyuncs.com", "aliyuncs.com", unknown("aliyuncs.com", "aliyuncs.com", ""), false},
		{"personal unknown prefix", "registry-foo.cn-hangzhou.aliyuncs.com", unknown("registry-foo.cn-hangzhou.aliyuncs.com", "registry-foo.cn-hangzhou.aliyuncs.com", ""), false},
		{"personal double dash region", "registry.cn--hangzhou.aliyuncs.com", unknown("registry.cn--hangzhou.aliyuncs.com", "registry.cn--hangzhou.aliyuncs.com", ""), false},
		{"api endpoint is not a registry", "cr.cn-hangzhou.aliyuncs.com", unknown("cr.cn-hangzhou.aliyuncs.com", "cr.cn-hangzhou.aliyuncs.com", ""), false},

		// Personal Edition instances.
		{"crpi", "crpi-abcd1234efgh5678.cn-hangzhou.personal.cr.aliyuncs.com", crpi("crpi-abcd1234efgh5678.cn-hangzhou.personal.cr.aliyuncs.com", "cn-hangzhou", "crpi-abcd1234efgh5678", false), false},
		{"crpi vpc", "crpi-abcd1234efgh5678-vpc.cn-shanghai.personal.cr.aliyuncs.com", crpi("crpi-abcd1234efgh5678-vpc.cn-shanghai.personal.cr.aliyuncs.com", "cn-shanghai", "crpi-abcd1234efgh5678", true), false},
		{"crpi upper case", "CRPI-ABCD1234EFGH5678.AP-SOUTHEAST-1.PERSONAL.CR.ALIYUNCS.COM", crpi("crpi-abcd1234efgh5678.ap-southeast-1.personal.cr.aliyuncs.com", "ap-southeast-1", "crpi-abcd1234efgh5678", false), false},
		{"crpi https :443", "https://crpi-x1.cn-beijing.personal.cr.aliyuncs.com:443/v2/", crpi("crpi-x1.cn-beijing.personal.cr.aliyuncs.com", "cn-beijing", "crpi-x1", false), false},
		{"crpi bad id", "crpi-ab-cd.cn-hangzhou.personal.cr.aliyuncs.com", unknown("crpi-ab-cd.cn-hangzhou.personal.cr.aliyuncs.com", "crpi-ab-cd.cn-hangzhou.personal.cr.aliyuncs.com", ""), false},
		{"crpi without personal", "crpi-abcd.cn-hangzhou.cr.aliyuncs.com", unknown("crpi-abcd.cn-hangzhou.cr.aliyuncs.com", "crpi-abcd.cn-hangzhou.cr.aliyuncs.com", ""), false},

		// Enterprise Edition default domains.
		{"enterprise", "team-registry.cn-beijing.cr.aliyuncs.com", ee("team-registry.cn-beijing.cr.aliyuncs.com", "cn-beijing", "team", false), false},
		{"enterprise vpc", "team-registry-vpc.cn-beijing.cr.aliyuncs.com", ee("team-registry-vpc.cn-beijing.cr.aliyuncs.com", "cn-beijing", "team", true), false},
		{"enterprise name with -registry, vpc", "aworld-registry-registry-vpc.cn-hangzhou.cr.aliyuncs.com", ee("aworld-registry-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "cn-hangzhou", "aworld-registry", true), false},
		{"enterprise name with -registry", "aworld-registry-registry.cn-hangzhou.cr.aliyuncs.com", ee("aworld-registry-registry.cn-hangzhou.cr.aliyuncs.com", "cn-hangzhou", "aworld-registry", false), false},
		{"enterprise name ending -vpc", "my-vpc-registry.cn-hangzhou.cr.aliyuncs.com", ee("my-vpc-registry.cn-hangzhou.cr.aliyuncs.com", "cn-hangzhou", "my-vpc", false), false},
		{"enterprise intl region", "acme-prod-registry.ap-southeast-1.cr.aliyuncs.com", ee("acme-prod-registry.ap-southeast-1.cr.aliyuncs.com", "ap-southeast-1", "acme-prod", false), false},
		{"enterprise upper case https path", "HTTPS://Team-Registry.CN-Beijing.CR.aliyuncs.com/v2/library/", ee("team-registry.cn-beijing.cr.aliyuncs.com", "cn-beijing", "team", false), false},
		{"enterprise p2p", "team-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001", p2p, false},
		{"enterprise p2p https", "https://team-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/v2/", p2p, false},
		{"enterprise p2p public form is not p2p", "team-registry.distributed.cn-hangzhou.cr.aliyuncs.com", unknown("team-registry.distributed.cn-hangzhou.cr.aliyuncs.com", "team-registry.distributed.cn-hangzhou.cr.aliyuncs.com", ""), false},
		{"enterprise name too short", "ab-registry.cn-hangzhou.cr.aliyuncs.com", unknown("ab-registry.cn-hangzhou.cr.aliyuncs.com", "ab-registry.cn-hangzhou.cr.aliyuncs.com", ""), false},
		{"enterprise name too long", strings.Repeat("a", 31) + "-registry.cn-hangzhou.cr.aliyuncs.com", unknown(strings.Repeat("a", 31)+"-registry.cn-hangzhou.cr.aliyuncs.com", strings.Repeat("a", 31)+"-registry.cn-hangzhou.cr.aliyuncs.com", ""), false},
		{"enterprise name 30", strings.Repeat("a", 30) + "-registry.cn-hangzhou.cr.aliyuncs.com", ee(strings.Repeat("a", 30)+"-registry.cn-hangzhou.cr.aliyuncs.com", "cn-hangzhou", strings.Repeat("a", 30), false), false},
		{"enterprise name ends with dash", "abc--registry.cn-hangzhou.cr.aliyuncs.com", unknown("abc--registry.cn-hangzhou.cr.aliyuncs.com", "abc--registry.cn-hangzhou.cr.aliyuncs.com", ""), false},
		{"enterprise bare -registry label", "registry.cn-hangzhou.cr.aliyuncs.com", unknown("registry.cn-hangzhou.cr.aliyuncs.com", "registry.cn-hangzhou.cr.aliyuncs.com", ""), false},

		// Custom domains and other hosts: valid, not ACR.
		{"custom domain", "registry.example.com", unknown("registry.example.com", "registry.example.com", ""), false},
		{"custom domain port", "Registry.Example.com:5443", unknown("registry.example.com:5443", "registry.example.com", "5443"), false},
		{"localhost:5000", "localhost:5000", unknown("localhost:5000", "localhost", "5000"), false},
		{"docker hub index url", "https://index.docker.io/v1/", unknown("index.docker.io", "index.docker.io", ""), false},
		{"ipv4", "192.168.1.10", unknown("192.168.1.10", "192.168.1.10", ""), false},
		{"ipv4 port", "http://127.0.0.1:5000/v2/", unknown("127.0.0.1:5000", "127.0.0.1", "5000"), false},
		{"ipv4 :443", "10.0.0.1:443", unknown("10.0.0.1", "10.0.0.1", ""), false},
		{"ipv6 port", "[::1]:5000", unknown("[::1]:5000", "::1", "5000"), false},
		{"ipv6 canonicalised", "https://[2001:DB8:0:0::1]:443/v2/", unknown("[2001:db8::1]", "2001:db8::1", ""), false},
		{"numeric label inside name", "123.example.com", unknown("123.example.com", "123.example.com", ""), false},

		// Look-alikes: valid hosts, but not ACR.
		{"suffix appended", hz + ".evil.example", unknown(hz+".evil.example", hz+".evil.example", ""), false},
		{"acr name in path", "evil.example/" + hz, unknown("evil.example", "evil.example", ""), false},
		{"acr name in https path", "https://evil.example/" + hz, unknown("evil.example", "evil.example", ""), false},
		{"prefix glued", "x" + hz, unknown("x"+hz, "x"+hz, ""), false},
		{"aliyuncs.co", "registry.cn-hangzhou.aliyuncs.co", unknown("registry.cn-hangzhou.aliyuncs.co", "registry.cn-hangzhou.aliyuncs.co", ""), false},
		{"aliyuncs.com.cn", hz + ".cn", unknown(hz+".cn", hz+".cn", ""), false},
		{"aliyuncs glued", "registry.cn-hangzhou.evilaliyuncs.com", unknown("registry.cn-hangzhou.evilaliyuncs.com", "registry.cn-hangzhou.evilaliyuncs.com", ""), false},
		{"extra label before region", "registry.x.cn-hangzhou.aliyuncs.com", unknown("registry.x.cn-hangzhou.aliyuncs.com", "registry.x.cn-hangzhou.aliyuncs.com", ""), false},
		{"enterprise suffix appended", "team-registry.cn-beijing.cr.aliyuncs.com.evil.example:443", unknown("team-registry.cn-beijing.cr.aliyuncs.com.evil.example", "team-registry.cn-beijing.cr.aliyuncs.com.evil.example", ""), false},

		// Rejected: not a registry host.
		{"empty", "", Registry{}, true},
		{"only whitespace", " \t\n", Registry{}, true},
		{"userinfo", "user@" + hz, Registry{}, true},
		{"userinfo with password", "https://user:pass@" + hz, Registry{}, true},
		{"acr userinfo before evil", hz + "@evil.example", Registry{}, true},
		{"at in path", "https://" + hz + "/v2/@x", Registry{}, true},
		{"query", "https://" + hz + "/v2/?x=1", Registry{}, true},
		{"query on host", hz + "?", Registry{}, true},
		{"fragment", hz + "#frag", Registry{}, true},
		{"trailing dot", hz + ".", Registry{}, true},
		{"trailing dot with port", hz + ".:443", Registry{}, true},
		{"underscore", "registry.cn_hangzhou.aliyuncs.com", Registry{}, true},
		{"cyrillic u confusable", "registr\u0443.cn-hangzhou.aliyuncs.com", Registry{}, true},
		{"fullwidth dot", "registry\uff0ecn-hangzhou.aliyuncs.com", Registry{}, true},
		{"non-breaking space around", "\u00a0" + hz, Registry{}, true},
		{"invalid utf-8", "registry.cn-hangzhou.aliyuncs.com\xff", Registry{}, true},
		{"percent-encoded dot", "registry%2ecn-hangzhou.aliyuncs.com", Registry{}, true},
		{"percent-encoded at", hz + "%40evil.example", Registry{}, true},
		{"NUL inside", hz + "\x00.evil.example", Registry{}, true},
		{"NUL at end", hz + "\x00", Registry{}, true},
		{"tab inside", "registry.cn-hangzhou\t.aliyuncs.com", Registry{}, true},
		{"space inside", "registry.cn-hangzhou .aliyuncs.com", Registry{}, true},
		{"newline inside", hz + "\nevil.example", Registry{}, true},
		{"DEL inside", hz + "\x7f", Registry{}, true},
		{"port 0", hz + ":0", Registry{}, true},
		{"port 99999", hz + ":99999", Registry{}, true},
		{"port 65536", hz + ":65536", Registry{}, true},
		{"port leading zero", hz + ":0443", Registry{}, true},
		{"port sign", hz + ":+443", Registry{}, true},
		{"port not number", hz + ":https", Registry{}, true},
		{"empty port", hz + ":", Registry{}, true},
		{"two ports", hz + ":443:443", Registry{}, true},
		{"only port", ":443", Registry{}, true},
		{"scheme only", "https://", Registry{}, true},
		{"scheme relative", "//" + hz, Registry{}, true},
		{"triple slash", "https:///" + hz, Registry{}, true},
		{"leading slash", "/" + hz, Registry{}, true},
		{"ftp scheme", "ftp://" + hz, Registry{}, true},
		{"file scheme", "file://" + hz, Registry{}, true},
		{"scheme without slashes", "https:" + hz, Registry{}, true},
		{"backslash path", hz + "\\evil.example", Registry{}, true},
		{"backslash after scheme", "https:\\\\" + hz, Registry{}, true},
		{"overlong label", longLabel + ".example.com", Registry{}, true},
		{"label 63 ok", label63 + ".example.com", unknown(label63+".example.com", label63+".example.com", ""), false},
		{"host 253 ok", host253, unknown(host253, host253, ""), false},
		{"host over 253", host253 + "b", Registry{}, true},
		{"empty label", "registry..aliyuncs.com", Registry{}, true},
		{"leading dot", "." + hz, Registry{}, true},
		{"label starts with dash", "-registry.cn-hangzhou.aliyuncs.com", Registry{}, true},
		{"label ends with dash", "registry-.cn-hangzhou.aliyuncs.com", Registry{}, true},
		{"2 KiB input", strings.Repeat("a.", 1024), Registry{}, true},
		{"1 KiB plus one with whitespace", hz + strings.Repeat(" ", 1024), Registry{}, true},
		{"bare ipv6", "::1", Registry{}, true},
		{"ipv6 with zone", "[fe80::1%25eth0]", Registry{}, true},
		{"ipv6 unterminated", "[::1", Registry{}, true},
		{"ipv6 garbage after", "[::1]x", Registry{}, true},
		{"ipv4 in brackets", "[127.0.0.1]", Registry{}, true},
		{"ipv4 out of range", "256.1.1.1", Registry{}, true},
		{"ipv4 too short", "1.2.3", Registry{}, true},
		{"ipv4 leading zero", "010.1.1.1", Registry{}, true},
		{"brackets in host", "host[1]", Registry{}, true},
	}
	if len(tests) < 60 {
		t.Fatalf("table has %d cases, want at least 60", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error", tt.in, got)
				}
				if he := (*HostError)(nil); !errors.As(err, &he) {
					t.Fatalf("Parse(%q) error %v is not a *HostError", tt.in, err)
				}
				if got != (Registry{}) {
					t.Fatalf("Parse(%q) returned %+v with error", tt.in, got)
				}
				if _, err := serverHost(tt.in); err == nil {
					t.Fatalf("serverHost(%q) accepted what Parse rejects", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			if got.IsACR() != (tt.want.Edition != EditionUnknown) {
				t.Fatalf("IsACR() = %v for edition %v", got.IsACR(), got.Edition)
			}
			host, err := serverHost(tt.in)
			if err != nil || host != tt.want.Host {
				t.Fatalf("serverHost(%q) = %q, %v; want %q", tt.in, host, err, tt.want.Host)
			}
			again, err := Parse(got.Host)
			if err != nil || again != got {
				t.Fatalf("Parse(canonical %q) = %+v, %v; want %+v", got.Host, again, err, got)
			}
		})
	}
}

func TestParseErrorDoesNotEchoInput(t *testing.T) {
	_, err := Parse("https://user:s3cr3t@registry.cn-hangzhou.aliyuncs.com")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v must not echo the input", err)
	}
}

func TestEditionString(t *testing.T) {
	for e, want := range map[Edition]string{
		EditionUnknown:          "unknown",
		EditionPersonal:         "personal",
		EditionPersonalInstance: "personal-instance",
		EditionEnterprise:       "enterprise",
		Edition(42):             "Edition(42)",
	} {
		if got := e.String(); got != want {
			t.Errorf("Edition(%d).String() = %q, want %q", int(e), got, want)
		}
	}
}

func TestMatchesDomain(t *testing.T) {
	tests := []struct {
		host   string
		domain string
		want   bool
	}{
		{"registry.example.com", "registry.example.com", true},
		{"registry.example.com", "REGISTRY.Example.COM", true},
		{"registry.example.com", "  registry.example.com\n", true},
		{"registry.example.com:443", "registry.example.com", true},
		{"registry.example.com", "registry.example.com:443", true},
		{"https://registry.example.com:443/v2/", "registry.example.com", true},
		{"registry.example.com:5443", "registry.example.com:5443", true},
		{"registry.example.com:5443", "registry.example.com", false},
		{"registry.example.com", "registry.example.com:5443", false},
		{"registry.example.com:5443", "registry.example.com:5000", false},
		{"registry.example.com", "example.com", false},
		{"registry.example.com", "registry.example.com.", false},
		{"registry.example.com", "https://registry.example.com", false},
		{"registry.example.com", "registry.example.com/v2", false},
		{"registry.example.com", "user@registry.example.com", false},
		{"registry.example.com", "*.example.com", false},
		{"registry.example.com", "", false},
		{"registry.example.com.evil.example", "registry.example.com", false},
		{"evil.example/registry.example.com", "registry.example.com", false},
		{"[::1]:5000", "[::1]:5000", true},
		{"[::1]:5000", "[0:0::1]:5000", true},
		{"[::1]:5000", "::1", false},
		{"10.0.0.1:443", "10.0.0.1", true},
	}
	for _, tt := range tests {
		r, err := Parse(tt.host)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.host, err)
		}
		if got := r.MatchesDomain(tt.domain); got != tt.want {
			t.Errorf("Parse(%q).MatchesDomain(%q) = %v, want %v", tt.host, tt.domain, got, tt.want)
		}
	}
	if (Registry{}).MatchesDomain("") {
		t.Error("zero Registry matches the empty domain")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"registry.cn-hangzhou.aliyuncs.com",
		"registry-intl-vpc.ap-southeast-1.aliyuncs.com:443",
		"https://crpi-abcd1234efgh5678-vpc.cn-hangzhou.personal.cr.aliyuncs.com/v2/",
		"aworld-registry-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
		"team-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
		"[::1]:5000",
		"registry.cn-hangzhou.aliyuncs.com@evil.example",
		"evil.example/registry.cn-hangzhou.aliyuncs.com",
	} {
		f.Add(s)
	}
	// The shared look-alikes and malformed hosts (testdata/hostile/hosts.json).
	for _, h := range testkit.HostileHosts() {
		f.Add(h.Input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if he := (*HostError)(nil); !errors.As(err, &he) {
				t.Fatalf("error %v is not a *HostError", err)
			}
			if r != (Registry{}) {
				t.Fatalf("Parse(%q) returned %+v with an error", s, r)
			}
			return
		}
		if r.Host == "" || r.Hostname == "" {
			t.Fatalf("Parse(%q) = %+v: empty host", s, r)
		}
		for _, c := range r.Host {
			if c == '@' || c == '/' || c == '?' || c == '#' || c == '\\' || c == '%' ||
				unicode.IsSpace(c) || unicode.IsUpper(c) || c < 0x21 || c > 0x7e {
				t.Fatalf("Parse(%q): canonical host %q contains %q", s, r.Host, c)
			}
		}
		if r.Port == "443" {
			t.Fatalf("Parse(%q): port 443 kept", s)
		}
		if h, err := serverHost(s); err != nil || h != r.Host {
			t.Fatalf("serverHost(%q) = %q, %v; Parse gave %q", s, h, err, r.Host)
		}
		again, err := Parse(r.Host)
		if err != nil {
			t.Fatalf("Parse(canonical %q): %v", r.Host, err)
		}
		if again.Host != r.Host {
			t.Fatalf("canonical host not stable: %q → %q", r.Host, again.Host)
		}
		if r.IsACR() {
			if again != r {
				t.Fatalf("re-parse of %q differs:\n%+v\n%+v", r.Host, again, r)
			}
			if !strings.HasSuffix(r.Hostname, ".aliyuncs.com") || r.Region == "" {
				t.Fatalf("Parse(%q) = %+v: ACR without region or suffix", s, r)
			}
			if !r.MatchesDomain(r.Host) {
				t.Fatalf("%+v does not match its own host", r)
			}
		}
	})
}

// serverHost is parseServerURL's canonical host (the cache/store key), or an error.
func serverHost(s string) (string, error) {
	h, err := parseServerURL(s)
	return h.Key(), err
}
