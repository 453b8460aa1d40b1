package testkit

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HostileHost is a registry host, as a client might send it, that names no registry the helper
// may serve: it must get "credentials not found" and cause no API call.
type HostileHost struct {
	Name  string
	Input string
}

// HostileHosts are the shared look-alikes and malformed hosts of testdata/hostile/hosts.json.
func HostileHosts() []HostileHost {
	var doc struct {
		About string `json:"about"`
		Hosts []struct {
			Name  string `json:"name"`
			Input string `json:"input"`
			Hex   string `json:"hex"` // for inputs JSON cannot hold (invalid UTF-8)
		} `json:"hosts"`
	}
	ReadJSON(&doc, "hostile", "hosts.json")
	out := make([]HostileHost, 0, len(doc.Hosts))
	for _, h := range doc.Hosts {
		in := h.Input
		if h.Hex != "" {
			b, err := hex.DecodeString(h.Hex)
			if err != nil {
				panic("testkit: hostile host " + h.Name + ": " + err.Error())
			}
			in = string(b)
		}
		out = append(out, HostileHost{Name: h.Name, Input: in})
	}
	return out
}

// HostileConfigs are the broken and hostile helper config files of testdata/hostile/config,
// by name (file name without .yaml), in name order.
func HostileConfigs() (names []string, bodies map[string][]byte) {
	files, err := filepath.Glob(Path("hostile", "config", "*.yaml"))
	if err != nil || len(files) == 0 {
		panic("testkit: no hostile config files")
	}
	bodies = map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic("testkit: " + err.Error())
		}
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		names = append(names, name)
		bodies[name] = b
	}
	sort.Strings(names)
	return names, bodies
}
