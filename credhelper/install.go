package credhelper

import (
	"fmt"
	"os"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/config"

	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletinstall"
)

// installKubeletPlugin is the install-kubelet-plugin command: this binary, put on the node as
// the kubelet's plugin, with print-kubelet-config's options (the helper config's custom domains
// included, as print-kubelet-config has them).
func installKubeletPlugin(inv *invocation, args []string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(inv.Stderr, "install-kubelet-plugin: cannot find this executable to install it: %v\n", err)
		return 1
	}
	v, _ := inv.build.resolve()
	if askedForHelp(args) { // the usage needs no config
		return kubeletinstall.Run(args, inv.getenv, kubeletinstall.Self{Path: exe, Version: v}, inv.Stdout, inv.Stderr)
	}
	// With --helper-config, the custom domains are that file's, the one the plugin will read.
	getenv := inv.getenv
	if f := helperConfigArg(args); f != "" {
		getenv = func(k string) string {
			if k == config.EnvConfig {
				return f
			}
			return inv.getenv(k)
		}
	}
	return kubeletinstall.Run(append(configMatchImages(getenv, inv.Stderr), args...), inv.getenv, kubeletinstall.Self{Path: exe, Version: v}, inv.Stdout, inv.Stderr)
}

// helperConfigArg is the value of --helper-config in args, "" without it.
func helperConfigArg(args []string) string {
	v := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, n := range []string{"--helper-config", "-helper-config"} {
			if rest, ok := strings.CutPrefix(a, n+"="); ok {
				v = rest
			} else if a == n && i+1 < len(args) {
				v = args[i+1]
			}
		}
	}
	return v
}
