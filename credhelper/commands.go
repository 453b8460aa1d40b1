package credhelper

import (
	"context"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"log/slog"
	"runtime"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/dockerconfig"
	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletconfig"
)

// Build names the binary's build for `version`.
type Build struct {
	Version string // "" becomes "(devel)"
	Commit  string // "" becomes "unknown"
}

// Streams are the standard streams of one command.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// command is one row of the command table: how the binary behaves for a first argument.
type command struct {
	names []string
	// withKeychain commands read the helper's configuration and open the stores first; a broken
	// configuration fails them (it must never silently drop a role). The others work without a
	// readable configuration.
	withKeychain bool
	// errorsOnStdout: the docker credential-helper protocol reports errors on stdout, where
	// docker reads them; the kubelet and people (doctor) read stderr.
	errorsOnStdout bool
	run            func(inv *invocation, args []string) int
}

// invocation is one run of the binary.
type invocation struct {
	Streams
	getenv func(string) string
	build  Build
	name   string // the first argument
	// With withKeychain:
	cfg *config.Config
	k   *keychain.Keychain
	log *slog.Logger
	ctx context.Context
}

// The exit codes: 0 done, 1 failed (or not found, for the docker protocol), 2 bad usage.
var commands = []command{
	{names: []string{"version", "--version", "-v"}, run: func(inv *invocation, _ []string) int {
		v, c := inv.build.resolve()
		fmt.Fprintf(inv.Stdout, "docker-credential-acr (Alibaba Cloud Container Registry) %s commit %s %s\n", v, c, runtime.Version())
		return 0
	}},
	{names: []string{"help", "--help", "-h"}, run: func(inv *invocation, _ []string) int {
		fmt.Fprintln(inv.Stdout, usage)
		return 0
	}},
	{names: []string{"configure-docker"}, run: func(inv *invocation, args []string) int {
		// The helper's config is read only when no --registries are given: a broken config must
		// not stop a user from configuring docker for the hosts they name.
		return dockerconfig.Run(args, inv.getenv, func() ([]string, error) {
			cfg, err := config.Load(inv.getenv)
			if err != nil {
				return nil, err
			}
			return cfg.Domains(), nil
		}, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"print-kubelet-config"}, run: func(inv *invocation, args []string) int {
		return kubeletconfig.Run(append(configMatchImages(inv.getenv, inv.Stderr), args...), inv.getenv, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"doctor"}, withKeychain: true, run: func(inv *invocation, args []string) int {
		return Doctor(inv.ctx, inv.k, args, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"get-login-password"}, withKeychain: true, run: func(inv *invocation, args []string) int {
		return getLoginPassword(inv.ctx, inv.k, args, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"kubelet"}, withKeychain: true, run: func(inv *invocation, _ []string) int {
		if err := Kubelet(inv.ctx, inv.k, inv.Stdin, inv.Stdout); err != nil {
			inv.log.Error(err.Error())
			return 1
		}
		return 0
	}},
}

// dockerProtocol serves every other first argument: get, store, erase, list (and an unknown
// command, which the protocol answers on stdout).
var dockerProtocol = command{withKeychain: true, errorsOnStdout: true, run: func(inv *invocation, args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(inv.Stderr, usage)
		return 1
	}
	d := &Docker{Keychain: inv.k, Ctx: inv.ctx, Strict: inv.cfg.Strict}
	if err := d.Handle(inv.name, inv.Stdin, inv.Stdout); err != nil {
		fmt.Fprintln(inv.Stdout, err)
		return 1
	}
	return 0
}}

// Main runs the binary: argv is os.Args (argv[0] included), getenv the environment's lookup. It
// returns the exit code. Under the name acr-credential-provider (the kubelet's plugin dir) it
// speaks the kubelet protocol whatever the arguments the kubelet config passes.
func Main(argv []string, s Streams, getenv func(string) string, b Build) int {
	var args []string
	if len(argv) > 0 {
		args = argv[1:]
		if IsKubeletProviderName(argv[0]) {
			args = []string{"kubelet"}
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(s.Stderr, usage)
		return 1
	}
	inv := &invocation{Streams: s, getenv: getenv, build: b, name: args[0]}
	cmd := lookupCommand(args[0])
	if !cmd.withKeychain {
		return cmd.run(inv, args[1:])
	}
	log, logErr := NewLogger(s.Stderr, config.LogLevel(getenv))
	if logErr != nil {
		log.Warn(logErr.Error())
	}
	inv.log = log
	cfg, err := config.Load(getenv)
	if err != nil {
		// A broken config must never silently drop a role: every command fails with the fix.
		if cmd.errorsOnStdout {
			fmt.Fprintln(s.Stdout, err)
		}
		log.Error(err.Error())
		return 1
	}
	inv.cfg = cfg
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	inv.ctx = ctx
	inv.k = openKeychain(cfg, log)
	return cmd.run(inv, args[1:])
}

func lookupCommand(name string) command {
	for _, c := range commands {
		for _, n := range c.names {
			if n == name {
				return c
			}
		}
	}
	return dockerProtocol
}

// openKeychain opens the stores the configuration names; a store that cannot be opened is a
// warning, and the command goes on without it.
func openKeychain(cfg *config.Config, log *slog.Logger) *keychain.Keychain {
	k := &keychain.Keychain{Config: cfg, Log: log}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if !cfg.NoCache && cfg.CacheDir != "" {
		c, err := cache.Open(cfg.CacheDir)
		if err != nil {
			log.Warn("running without the token cache: " + err.Error() + " (DOCKER_CREDENTIAL_ACR_CACHE_DIR chooses another directory)")
		}
		k.Cache = c
	}
	if cfg.DataDir != "" {
		if s, err := cache.OpenLoginsDir(cfg.DataDir); err != nil {
			log.Warn("the store of `docker login` credentials is not available: " + err.Error() + " (DOCKER_CREDENTIAL_ACR_DATA_DIR chooses another directory)")
		} else {
			k.Logins = s
		}
	}
	return k
}

func (b Build) resolve() (string, string) {
	v, c := b.Version, b.Commit
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

const usage = `Usage: docker-credential-acr <get|store|erase|list|version>
       docker-credential-acr doctor [--json] [--online] HOST...
       docker-credential-acr doctor --policy [--json] HOST...
       docker-credential-acr get-login-password [--username] HOST   (for ctr, crictl, helm registry login)
       docker-credential-acr configure-docker [--registries h1,h2] [--dry-run]
       docker-credential-acr kubelet               (image credential provider; also as acr-credential-provider)
       docker-credential-acr print-kubelet-config [--service-account-tokens] [--match-image HOST]...

docker-credential-acr is the docker credential helper for Alibaba Cloud Container Registry (ACR).
Configure it in ~/.docker/config.json:  {"credHelpers": {"registry.cn-hangzhou.aliyuncs.com": "acr"}}`
