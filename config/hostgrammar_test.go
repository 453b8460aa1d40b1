package config

import (
	"encoding/json"
	"os"
	"testing"
)

type grammarCase struct {
	In string `json:"in"`
	OK bool   `json:"ok"`
}

// TestHostGrammar: a domain entry and a regionId are accepted exactly when the helper's one host
// grammar (acr.ParseHostPort, acr.ValidRegion; table in acr/testdata) accepts them, so a domain the
// config takes is one a registry host can match.
func TestHostGrammar(t *testing.T) {
	data, err := os.ReadFile("../acr/testdata/hostgrammar.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ HostPorts, Regions []grammarCase }
	if err := json.Unmarshal(data, &g); err != nil || len(g.HostPorts) == 0 || len(g.Regions) == 0 {
		t.Fatalf("table: %v", err)
	}
	parse := func(doc map[string]any) error {
		body, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return (&Config{}).parse("config.json", body)
	}
	for _, c := range g.HostPorts {
		err := parse(map[string]any{"registries": []any{map[string]any{"domains": []string{c.In}}}})
		if (err == nil) != c.OK {
			t.Errorf("domains: [%q]: %v; want ok=%v", c.In, err, c.OK)
		}
	}
	for _, c := range g.Regions {
		if c.In == "" {
			continue // an empty regionId is an absent one
		}
		err := parse(map[string]any{"registries": []any{map[string]any{"domains": []string{"registry.example.com"}, "regionId": c.In}}})
		if (err == nil) != c.OK {
			t.Errorf("regionId: %q: %v; want ok=%v", c.In, err, c.OK)
		}
	}
}
