package kubeletinstall

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// rancherProfile is k3s or RKE2: the provider paths are the defaults, or those the node's
// config.yaml and config.yaml.d/*.yaml set (in the order k3s reads them: the drop-ins sorted by
// name after the main file, later values winning), kubelet-arg winning over the keys as it does
// on the kubelet's command line.
func rancherProfile(root, name string) (*Profile, error) {
	dir := "/etc/rancher/" + name
	p := &Profile{Name: name, ConfigFile: rancherConfigFile, BinDir: rancherBinDir, Unit: rancherUnit(root, name)}
	files := []string{dir + "/config.yaml"}
	drop, _ := filepath.Glob(filepath.Join(root, dir, "config.yaml.d", "*.yaml"))
	sort.Strings(drop)
	for _, d := range drop {
		files = append(files, dir+"/config.yaml.d/"+filepath.Base(d))
	}
	var keyConfig, keyBin, argConfig, argBin string
	var whyConfig, whyBin string
	for _, f := range files {
		data, err := readNodeFile(root, f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %v: fix the file (%s reads it too) and run the installer again", f, err, name)
		}
		if v, ok := doc["image-credential-provider-config"].(string); ok {
			keyConfig, whyConfig = v, f+" image-credential-provider-config"
		}
		if v, ok := doc["image-credential-provider-bin-dir"].(string); ok {
			keyBin, whyBin = v, f+" image-credential-provider-bin-dir"
		}
		var args []string
		switch a := doc["kubelet-arg"].(type) {
		case string:
			args = []string{a}
		case []any:
			for _, x := range a {
				if s, ok := x.(string); ok {
					args = append(args, s)
				}
			}
		}
		for _, a := range args {
			// k3s passes each kubelet-arg as --<arg>.
			words := []string{"--" + strings.TrimLeft(a, "-")}
			if v, ok := flagValue(words, flagConfig); ok {
				argConfig, whyConfig = v, f+" kubelet-arg"
			}
			if v, ok := flagValue(words, flagBinDir); ok {
				argBin, whyBin = v, f+" kubelet-arg"
			}
		}
	}
	for _, c := range []struct {
		dst             *string
		key, arg, where string
	}{{&p.ConfigFile, keyConfig, argConfig, whyConfig}, {&p.BinDir, keyBin, argBin, whyBin}} {
		v := c.key
		if c.arg != "" {
			v = c.arg
		}
		if v != "" {
			*c.dst = v
			p.Why = append(p.Why, fmt.Sprintf("%s sets %s", c.where, v))
		}
	}
	p.Why = append(p.Why, fmt.Sprintf("%s passes the kubelet %s=%s and %s=%s once both exist", name, flagConfig, p.ConfigFile, flagBinDir, p.BinDir))
	return p, nil
}

// rancherUnit is the systemd unit of the node: the server or the agent.
func rancherUnit(root, name string) string {
	units := map[string][]string{ProfileK3s: {"k3s", "k3s-agent"}, ProfileRKE2: {"rke2-server", "rke2-agent"}}[name]
	for _, u := range units {
		for _, d := range []string{"/etc/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
			if exists(filepath.Join(root, d, u+".service")) {
				return u
			}
		}
	}
	return units[0]
}
