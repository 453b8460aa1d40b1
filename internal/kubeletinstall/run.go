package kubeletinstall

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletconfig"
)

// DefaultRestartCommand restarts a systemd unit on the host from inside a container sharing
// the host's PID namespace (the DaemonSet's hostPID): it enters PID 1's namespaces. The unit is
// appended.
const DefaultRestartCommand = "nsenter -t 1 -m -u -i -n -p -- systemctl restart"

// Self is the running binary: its path and the version it reports.
type Self struct {
	Path    string
	Version string // as `version` prints it, e.g. v1.2.3 or (devel)
}

// Run is the install-kubelet-plugin command: args are the arguments after its name. It returns
// the exit code: 0 done (or nothing to do), 1 failed, 2 bad usage.
func Run(args []string, getenv func(string) string, self Self, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("install-kubelet-plugin", flag.ContinueOnError)
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: docker-credential-acr install-kubelet-plugin [--root DIR] [--profile auto|kubeadm|k3s|rke2|generic] [--dry-run] [--uninstall] [flags]

Installs this binary as the kubelet's image credential provider on the node whose filesystem is at
--root: the plugin acr-credential-provider in the profile's plugin directory, its entry merged into
the CredentialProviderConfig, the kubelet's two flags, and a kubelet restart when they changed.
--uninstall takes out what it added (its record: `+stateFile+`).
  docker-credential-acr install-kubelet-plugin --dry-run

Options (and print-kubelet-config's):
`)
		fs.PrintDefaults()
	}
	root := fs.String("root", "/", "the node's filesystem (a DaemonSet mounts the host's / there)")
	profile := fs.String("profile", ProfileAuto, "kubeadm, k3s, rke2, generic, or auto (detected from the node; says which)")
	var g GenericPaths
	fs.StringVar(&g.ConfigFile, "config-file", "", "generic: the CredentialProviderConfig file (merged into when it exists)")
	fs.StringVar(&g.BinDir, "bin-dir", "", "generic: the kubelet's plugin directory")
	fs.StringVar(&g.FlagsFile, "kubelet-flags-file", "", "generic: the environment file whose variable the kubelet's unit passes on its command line")
	fs.StringVar(&g.FlagsVar, "kubelet-flags-var", "KUBELET_EXTRA_ARGS", "generic: that variable")
	fs.StringVar(&g.Unit, "kubelet-unit", "kubelet", "generic: the kubelet's systemd unit")
	helperConfig := fs.String("helper-config", "", "a docker-credential-acr config file to put at "+HelperConfigPath+" (0600) for the plugin")
	uninstall := fs.Bool("uninstall", false, "take out what the installer added, from its record on the node")
	dryRun := fs.Bool("dry-run", false, "print the changes as a diff, change nothing")
	replaceBinary := fs.Bool("replace-binary", false, "replace a plugin binary whose version cannot be compared with this one")
	restartCommand := fs.String("restart-command", DefaultRestartCommand, "the command that restarts the kubelet's unit (the unit is appended)")
	noRestart := fs.Bool("no-restart", false, "do not restart the kubelet; say when it needs a restart")
	check := fs.Bool("check", false, "exit 0 when the node is configured as these options say, 1 (with the diff on stderr) when not; change nothing (the DaemonSet's readiness)")
	stay := fs.Bool("stay", false, "after doing the rest, wait for SIGTERM (the DaemonSet's long-running container)")
	opts := kubeletconfig.AddFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Asked for: the usage is the answer, on stdout.
			_, _ = stdout.Write(usage.Bytes())
			return 0
		}
		_, _ = stderr.Write(usage.Bytes())
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "install-kubelet-plugin: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "install-kubelet-plugin: %v\n", err)
		return 1
	}
	if !filepath.IsAbs(*root) {
		return fail(fmt.Errorf("--root %q: want an absolute path", *root))
	}
	words := strings.Fields(*restartCommand)
	if len(words) == 0 && !*noRestart {
		return fail(errors.New("--restart-command is empty; use --no-restart to skip the restart"))
	}
	in := &Installer{Root: *root, DryRun: *dryRun || *check, NoRestart: *noRestart, ReplaceBinary: *replaceBinary, Out: stdout}
	in.Restart = func(unit string) (string, error) {
		argv := append(append([]string(nil), words...), unit)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = stderr, stderr
		return strings.Join(argv, " "), cmd.Run()
	}
	if *uninstall {
		if *check || *stay {
			return fail(errors.New("--uninstall takes neither --check nor --stay"))
		}
		if err := in.Uninstall(); err != nil {
			return fail(err)
		}
		return 0
	}
	p, err := ResolveProfile(*root, *profile, g)
	if err != nil {
		return fail(err)
	}
	in.Profile = p
	if in.Config, in.Provider, _, err = opts.Config(); err != nil {
		return fail(err)
	}
	if in.Binary, err = os.ReadFile(self.Path); err != nil {
		return fail(fmt.Errorf("reading this executable to install it: %w", err))
	}
	in.Version = parseVersion("docker-credential-acr () " + self.Version + " ")
	if *helperConfig != "" {
		if in.HelperConfig, err = os.ReadFile(*helperConfig); err != nil {
			return fail(fmt.Errorf("--helper-config: %w", err))
		}
		// The plugin would fail on every pull with a broken config: refuse it now.
		if _, err := config.LoadFile(*helperConfig, func(string) string { return "" }); err != nil {
			return fail(fmt.Errorf("--helper-config: %w", err))
		}
	}
	var checkOut strings.Builder
	if *check {
		in.Out = &checkOut
	}
	if err := in.Install(); err != nil {
		return fail(err)
	}
	code := 0
	if *check {
		if in.Pending > 0 {
			fmt.Fprintf(stderr, "install-kubelet-plugin --check: the node is not configured (%d files to change):\n%s", in.Pending, checkOut.String())
			code = 1
		} else {
			fmt.Fprintf(stdout, "the node is configured: %s, provider config %s, plugin directory %s\n", p.Name, p.ConfigFile, p.BinDir)
		}
	}
	if a := opts.ServiceAccountAudience(); a != "" && !*dryRun && !*check {
		fmt.Fprintf(stdout, "per-workload identity: nodes must be allowed to request service-account tokens for the audience %s (the Helm chart's node part creates that RBAC; print-kubelet-config --service-account-tokens prints it)\n", a)
	}
	if *stay {
		// Whatever --check found: the readiness probe reports it, the container stays.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		<-ctx.Done()
		return 0
	}
	return code
}
