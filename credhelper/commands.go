package credhelper

import (
	"context"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/secrets/kms"
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
	// usage is the command's own help, printed (on stdout, exit 0) for `CMD --help`, `CMD -h`
	// and `help CMD`. Commands with flags leave it empty: their run prints its usage and flags
	// for --help itself.
	usage string
	run   func(inv *invocation, args []string) int
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
	{names: []string{"version", "--version", "-v"}, usage: versionUsage, run: func(inv *invocation, _ []string) int {
		v, c := inv.build.resolve()
		fmt.Fprintf(inv.Stdout, "docker-credential-acr (Alibaba Cloud Container Registry) %s commit %s %s\n", v, c, runtime.Version())
		return 0
	}},
	{names: []string{"help", "--help", "-h"}, usage: helpUsage, run: func(inv *invocation, _ []string) int {
		fmt.Fprintln(inv.Stdout, usage) // help CMD is CMD --help: Main turns it around
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
		if askedForHelp(args) { // the usage needs no config
			return kubeletconfig.Run(args, inv.getenv, inv.Stdout, inv.Stderr)
		}
		return kubeletconfig.Run(append(configMatchImages(inv.getenv, inv.Stderr), args...), inv.getenv, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"doctor"}, withKeychain: true, run: func(inv *invocation, args []string) int {
		return Doctor(inv.ctx, inv.k, args, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"get-login-password"}, withKeychain: true, run: func(inv *invocation, args []string) int {
		return getLoginPassword(inv.ctx, inv.k, args, inv.Stdout, inv.Stderr)
	}},
	{names: []string{"kubelet"}, withKeychain: true, usage: kubeletUsage, run: func(inv *invocation, _ []string) int {
		if err := Kubelet(inv.ctx, inv.k, inv.Stdin, inv.Stdout); err != nil {
			inv.log.Error(err.Error())
			return 1
		}
		return 0
	}},
}

// dockerProtocol serves every other first argument: get, store, erase, list (and an unknown
// command, which the protocol answers on stdout).
var dockerProtocol = command{names: []string{"get", "store", "erase", "list"}, withKeychain: true, errorsOnStdout: true, usage: protocolUsage, run: func(inv *invocation, args []string) int {
	if len(args) != 0 {
		if inv.name != "list" {
			fmt.Fprintf(inv.Stderr, "docker-credential-acr: %s reads the registry host on stdin, not as an argument: echo %s | docker-credential-acr %s\n\n", inv.name, truncate(args[0]), inv.name)
		}
		fmt.Fprintln(inv.Stderr, protocolUsage)
		return 1
	}
	d := &Docker{Keychain: inv.k, Ctx: inv.ctx}
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
			// The kubelet passes the config's args (normally "kubelet"); a person may ask --help.
			if askedForHelp(args) {
				args = []string{"kubelet", "--help"}
			} else {
				args = []string{"kubelet"}
			}
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(s.Stderr, usage)
		return 1
	}
	if (args[0] == "help" || args[0] == "--help" || args[0] == "-h") && len(args) > 1 && !helpFlags[args[1]] {
		args = []string{args[1], "--help"}
	}
	inv := &invocation{Streams: s, getenv: getenv, build: b, name: args[0]}
	cmd, ok := findCommand(args[0])
	if !ok {
		return unknownCommand(inv)
	}
	if cmd.usage != "" && askedForHelp(args[1:]) {
		fmt.Fprintln(s.Stdout, cmd.usage)
		return 0
	}
	if !cmd.withKeychain || askedForHelp(args[1:]) {
		// Help needs neither the config nor the stores: it works with a broken config too.
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

// findCommand is the row of the command table for name; the docker protocol's actions share one.
func findCommand(name string) (command, bool) {
	for _, c := range append(commands, dockerProtocol) {
		for _, n := range c.names {
			if n == name {
				return c, true
			}
		}
	}
	return command{}, false
}

// openKeychain opens the stores the configuration names; a store that cannot be opened is a
// warning, and the command goes on without it.
func openKeychain(cfg *config.Config, log *slog.Logger) *keychain.Keychain {
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	o := keychain.Options{Config: cfg, Logger: log, KMS: kms.New}
	if cfg.DataDir != "" {
		if s, err := cache.OpenLoginsDir(cfg.DataDir); err != nil {
			log.Warn("the store of `docker login` credentials is not available: " + err.Error() + " (DOCKER_CREDENTIAL_ACR_DATA_DIR chooses another directory)")
		} else {
			o.Logins = s
		}
	}
	if !cfg.NoCache && cfg.CacheDir != "" {
		o.CacheDir = cfg.CacheDir
		k, err := keychain.New(o)
		if err == nil {
			return k
		}
		log.Warn("running without the token cache: " + err.Error() + " (DOCKER_CREDENTIAL_ACR_CACHE_DIR chooses another directory)")
		o.CacheDir = ""
	}
	k, _ := keychain.New(o) // without a cache directory, New cannot fail
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
Configure it in ~/.docker/config.json:  {"credHelpers": {"registry.cn-hangzhou.aliyuncs.com": "acr"}}
(configure-docker writes that for you). Start with doctor: it explains what the helper does for a
registry and what is missing, without an account. "docker-credential-acr help COMMAND" (or
COMMAND --help) prints the usage of one command; "man docker-credential-acr" has everything.`
