// Command docker-credential-acr is a docker credential helper for Alibaba Cloud Container Registry
// (ACR): it hands docker, containerd, buildkit, crane, skopeo, podman and the kubelet temporary
// registry logins made from the machine's Alibaba Cloud credentials. main only wires.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/adrg/xdg"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper"
	"github.com/docker-credential-acr/docker-credential-acr/internal/dockerconfig"
)

// Set by the release build (-ldflags "-X main.version=… -X main.commit=…").
var (
	version = ""
	commit  = ""
)

func main() {
	// stdout belongs to the protocol answer. The SDKs print traces to os.Stdout; send them to stderr.
	dropSDKDebug()
	stdout := os.Stdout
	os.Stdout = os.Stderr
	args := os.Args[1:]
	if credhelper.IsKubeletProviderName(os.Args[0]) {
		// Installed as acr-credential-provider in the kubelet's plugin dir: whatever args the
		// kubelet config passes, speak the kubelet protocol.
		args = []string{"kubelet"}
	}
	os.Exit(run(args, os.Stdin, stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 1
	}
	cmd := args[0]
	switch cmd {
	case "version", "--version", "-v":
		v, c := buildInfo()
		fmt.Fprintf(stdout, "docker-credential-acr (Alibaba Cloud Container Registry) %s commit %s %s\n", v, c, runtime.Version())
		return 0
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return 0
	case "configure-docker":
		// The helper's config is read only when no --registries are given: a broken config must
		// not stop a user from configuring docker for the hosts they name.
		return dockerconfig.Run(args[1:], func() ([]string, error) {
			cfg, err := config.Load()
			if err != nil {
				return nil, err
			}
			return cfg.Domains(), nil
		}, stdout, stderr)
	case "print-kubelet-config":
		opts, err := credhelper.ParseKubeletConfigArgs(args[1:], stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if err := credhelper.PrintKubeletConfig(stdout, opts); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	log, logErr := credhelper.NewLogger(stderr, os.Getenv("DOCKER_CREDENTIAL_ACR_LOG_LEVEL"))
	if logErr != nil {
		log.Warn(logErr.Error())
	}
	cfg, err := config.Load()
	if err != nil {
		// A broken config must never silently drop a role: every command fails with the fix.
		if cmd != "kubelet" && cmd != "doctor" {
			fmt.Fprintln(stdout, err) // the credential-helper protocol reports errors on stdout
		}
		log.Error(err.Error())
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()

	k := &credhelper.Keychain{Config: cfg, Log: log}
	if !cfg.NoCache {
		c, err := openDir(cache.Open, "DOCKER_CREDENTIAL_ACR_CACHE_DIR", "XDG_CACHE_HOME", xdg.CacheHome)
		if err != nil {
			log.Warn("running without the token cache: " + err.Error())
		}
		k.Cache = c
	}
	if s, err := openDir(cache.OpenLoginsDir, "DOCKER_CREDENTIAL_ACR_DATA_DIR", "XDG_DATA_HOME", xdg.DataHome); err != nil {
		log.Warn("the store of `docker login` credentials is not available: " + err.Error())
	} else {
		k.Logins = s
	}
	switch cmd {
	case "doctor":
		return credhelper.Doctor(ctx, k, args[1:], stdout, stderr)
	case "kubelet":
		if err := credhelper.Kubelet(ctx, k, stdin, stdout); err != nil {
			log.Error(err.Error())
			return 1
		}
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, usage)
		return 1
	}
	d := &credhelper.Docker{Keychain: k, Ctx: ctx, Strict: cfg.Strict}
	if err := d.Handle(cmd, stdin, stdout); err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	return 0
}

const usage = `Usage: docker-credential-acr <get|store|erase|list|version>
       docker-credential-acr doctor [--json] [--online] HOST...
       docker-credential-acr configure-docker [--registries h1,h2] [--dry-run]
       docker-credential-acr kubelet               (image credential provider; also as acr-credential-provider)
       docker-credential-acr print-kubelet-config [--service-account-tokens] [--match-image HOST]...

docker-credential-acr is the docker credential helper for Alibaba Cloud Container Registry (ACR).
Configure it in ~/.docker/config.json:  {"credHelpers": {"registry.cn-hangzhou.aliyuncs.com": "acr"}}`

func buildInfo() (string, string) {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

// openDir opens a store in $override, else docker-credential-acr under $xdgVar (if absolute), else
// under xdgDefault. TEMPORARY (wt-cache branch): the cache package no longer reads the
// environment; these rules move to config on wt-core, which replaces this function at merge.
func openDir[T any](open func(string) (*T, error), override, xdgVar, xdgDefault string) (*T, error) {
	if d := os.Getenv(override); d != "" {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("%s=%q is not an absolute path", override, d)
		}
		return open(filepath.Clean(d))
	}
	base := os.Getenv(xdgVar)
	if base == "" || !filepath.IsAbs(base) {
		base = xdgDefault
	}
	if base == "" || !filepath.IsAbs(base) {
		return nil, fmt.Errorf("cannot determine the directory; set %s", override)
	}
	return open(filepath.Join(base, "docker-credential-acr"))
}
