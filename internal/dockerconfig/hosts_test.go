package dockerconfig

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestNormalizeHostGrammar: configure-docker takes a host exactly when the helper's one host grammar
// (acr.ParseHostPort; table in acr/testdata) does, and keeps it as written, lower-cased.
func TestNormalizeHostGrammar(t *testing.T) {
	data, err := os.ReadFile("../../acr/testdata/hostgrammar.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		HostPorts []struct {
			In string `json:"in"`
			OK bool   `json:"ok"`
		}
	}
	if err := json.Unmarshal(data, &g); err != nil || len(g.HostPorts) == 0 {
		t.Fatalf("table: %v", err)
	}
	for _, c := range g.HostPorts {
		got, _, err := normalizeHost(c.In)
		if (err == nil) != c.OK {
			t.Errorf("NormalizeHost(%q) = %q, %v; want ok=%v", c.In, got, err, c.OK)
		}
		if err == nil && got != strings.ToLower(c.In) {
			t.Errorf("NormalizeHost(%q) = %q, want it as written, lower-cased", c.In, got)
		}
		if err != nil && !strings.Contains(err.Error(), "is not a registry host: ") {
			t.Errorf("NormalizeHost(%q) error %q", c.In, err)
		}
	}
}

func TestDockerHubKeys(t *testing.T) {
	for _, in := range []string{"docker.io", "https://index.docker.io/v1/", "HTTPS://INDEX.DOCKER.IO/V1/"} {
		hosts, _, err := normalizeHosts([]string{"ghcr.io", in})
		want := []string{"ghcr.io", "https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "docker.io"}
		if err != nil || strings.Join(hosts, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %q %v, want %q", in, hosts, err, want)
		}
	}
	// Only the index server URL itself; any other URL with a path is still refused.
	for _, in := range []string{"https://index.docker.io/v2/", "https://ghcr.io/v1/", "index.docker.io/v1/"} {
		if h, _, err := normalizeHost(in); err == nil {
			t.Errorf("%s: accepted as %q", in, h)
		}
	}
}
