package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegionRule: a config whose regionId could only be ignored or contradict a host is refused
// with the file, line, entry and why; the configs users have (custom domains with their
// instance's region, instance entries) load.
func TestRegionRule(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []string // substrings of the error; nil: loads
	}{
		{"catch-all with regionId", "registries:\n  - arnUser: acs:ram::1:role/r\n  - regionId: cn-beijing\n    arnUser: acs:ram::2:role/r\n",
			[]string{":3:", "registries[1].regionId", "cn-beijing", "without domains or instanceId", "keeps cn-hangzhou"}},
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
