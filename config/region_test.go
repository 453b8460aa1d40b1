package config

import (
	"strings"
	"testing"
)

// TestSTSRegionVariableChecked: ALIBABA_CLOUD_STS_REGION enters here and must be a region id.
func TestSTSRegionVariableChecked(t *testing.T) {
	for _, tt := range []struct {
		v  string
		ok bool
	}{
		{"cn-hangzhou", true}, {"cn-shanghai-finance-1", true}, {"", true},
		{"evil.example.test:443/#", false}, {"cn-hangzhou.evil", false}, {"CN-HANGZHOU", false}, {"a b", false},
	} {
		dir := t.TempDir()
		env := map[string]string{EnvSTSRegion: tt.v, "XDG_CONFIG_HOME": dir, "XDG_CONFIG_DIRS": dir, EnvCacheDir: dir, EnvDataDir: dir}
		_, err := Load(func(k string) string { return env[k] })
		if tt.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), EnvSTSRegion) {
			t.Errorf("%s=%q: err = %v", EnvSTSRegion, tt.v, err)
		}
	}
}
