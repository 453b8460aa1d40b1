package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegionRule: a config whose regionId could only contradict a host, or where which entry
// applies would be a matter of order, is refused with the file, line, entry and why; the configs
// users have (custom domains with their instance's region, instance entries, the ACK add-on's
// Personal Edition entry of a region) load.
func TestRegionRule(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []string // substrings of the error; nil: loads
	}{
		{"two Personal Edition entries for one region", "registries:\n  - regionId: cn-beijing\n  - arnUser: acs:ram::1:role/r\n  - regionId: cn-beijing\n    arnUser: acs:ram::2:role/r\n",
			[]string{":4:", "registries[2].regionId", "registries[0]", "Personal Edition hosts of cn-beijing"}},
		{"a Personal Edition entry (regionId alone, the ACK add-on's form) beside a catch-all", "registries:\n  - arnUser: acs:ram::1:role/r\n  - regionId: cn-beijing\n    arnUser: acs:ram::2:role/r\n", nil},
		{"default domain of another region", "registries:\n  - domains: [registry.example.com, team-registry.cn-beijing.cr.aliyuncs.com]\n    regionId: cn-shanghai\n",
			[]string{":2:", "registries[0].regionId", "team-registry.cn-beijing.cr.aliyuncs.com", "names region cn-beijing"}},
		{"personal host of another region", "registries:\n  - domains: [registry.cn-hangzhou.aliyuncs.com]\n    regionId: cn-beijing\n",
			[]string{"registries[0].regionId", "names region cn-hangzhou"}},
		{"a domain in two entries", "registries:\n  - domains: [registry.example.com]\n    regionId: cn-beijing\n  - domains: [other.example.com, registry.example.com]\n    regionId: cn-shanghai\n",
			[]string{":4:", "registries[1].domains", "registry.example.com is also listed by registries[0]", ":2)"}},
		{"custom domain with its region", "registries:\n  - domains: [registry.example.com, team-registry.cn-beijing.cr.aliyuncs.com]\n    instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-beijing\n", nil},
		{"instance entry with its region", "registries:\n  - instanceId: cri-aaaaaaaaaaaaaaaa\n    regionId: cn-beijing\n", nil},
		{"catch-all without regionId", "registries:\n  - arnUser: acs:ram::1:role/r\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(p, func(string) string { return "" })
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			for _, w := range append(tt.want, p) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestMatchPersonal: a Personal Edition host gets the entry listing it, else its region's
// Personal Edition entry, else the catch-all; a region entry never applies to another region's
// hosts nor to Enterprise hosts.
func TestMatchPersonal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	body := "registries:\n  - domains: [registry-vpc.cn-beijing.aliyuncs.com]\n    arnUser: acs:ram::1:role/listed\n  - regionId: cn-beijing\n    arnUser: acs:ram::1:role/beijing\n  - arnUser: acs:ram::1:role/all\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	is := func(host string) func(string) bool { return func(d string) bool { return d == host } }
	for _, tt := range []struct{ host, region, want string }{
		{"registry-vpc.cn-beijing.aliyuncs.com", "cn-beijing", "acs:ram::1:role/listed"},
		{"registry.cn-beijing.aliyuncs.com", "cn-beijing", "acs:ram::1:role/beijing"},
		{"registry.cn-hangzhou.aliyuncs.com", "cn-hangzhou", "acs:ram::1:role/all"},
	} {
		if got := c.MatchPersonal(is(tt.host), tt.region); got == nil || got.ArnUser != tt.want {
			t.Errorf("%s: entry %+v, want the one with %s", tt.host, got, tt.want)
		}
	}
	if got := c.Match(is("team-registry.cn-beijing.cr.aliyuncs.com"), ""); got == nil || got.ArnUser != "acs:ram::1:role/all" {
		t.Errorf("an Enterprise host got %+v, want the catch-all", got)
	}
}
