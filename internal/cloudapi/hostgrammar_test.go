package cloudapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestEndpointHostGrammar: an endpoint override's host[:port] is accepted exactly when the helper's
// one host grammar (acr.ParseHostPort; table in acr/testdata) accepts it.
func TestEndpointHostGrammar(t *testing.T) {
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
		if c.In == "" {
			continue // no override: the default endpoint
		}
		for _, override := range []string{c.In, "https://" + c.In} {
			e, err := ResolveEndpoint(override, "cr", "cn-hangzhou", false)
			if (err == nil) != c.OK {
				t.Errorf("ResolveEndpoint(%q) = %+v, %v; want ok=%v", override, e, err, c.OK)
			}
			if err == nil && (e.Scheme != "https" || e.Host != strings.ToLower(c.In)) {
				t.Errorf("ResolveEndpoint(%q) = %+v", override, e)
			}
		}
	}
}
