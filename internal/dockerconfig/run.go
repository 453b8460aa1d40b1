package dockerconfig

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// usage of the configure-docker command.
const usage = `Usage: docker-credential-acr configure-docker [--registries host[,host...]] [--dry-run]

Adds "credHelpers" entries mapping each registry host to "acr" in docker's config file,
$DOCKER_CONFIG/config.json (default ~/.docker/config.json). Every other member of the file is
kept exactly as it was. Without --registries, the hosts are the domains of the helper's config
file.

Options:
  --registries host[,host...]  registry hosts (host or host:port); may be repeated
  --dry-run                    print what would change and write nothing`

// Run is the configure-docker command: args are the arguments after "configure-docker".
// getenv is the environment's lookup (DOCKER_CONFIG, HOME); defaultHosts gives the hosts when
// --registries is not given (the domains of the helper's config
// file); it may be nil. The report goes to stdout, warnings and errors to stderr. It returns the
// exit code: 0 done, 1 failed (the file untouched), 2 bad usage.
func Run(args []string, getenv func(string) string, defaultHosts func() ([]string, error), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("configure-docker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		hosts    []string
		given    bool
		dryRun   bool
		showHelp bool
	)
	fs.Func("registries", "registry hosts, comma-separated", func(v string) error {
		given = true
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		return nil
	})
	fs.BoolVar(&dryRun, "dry-run", false, "print what would change and write nothing")
	fs.BoolVar(&showHelp, "help", false, "")
	fs.BoolVar(&showHelp, "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "configure-docker: %v\n\n%s\n", err, usage)
		return 2
	}
	if showHelp {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "configure-docker: unexpected argument %q (give hosts with --registries h1,h2)\n\n%s\n", fs.Arg(0), usage)
		return 2
	}
	if !given && defaultHosts != nil {
		var err error
		if hosts, err = defaultHosts(); err != nil {
			fmt.Fprintf(stderr, "configure-docker: %v\n", err)
			return 1
		}
	}
	if len(hosts) == 0 {
		fmt.Fprintf(stderr, "configure-docker: %v\n", errNoHosts)
		return 1
	}
	res, err := configure(options{Hosts: hosts, DryRun: dryRun, Out: stdout, Getenv: getenv})
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "configure-docker: %v\n", err)
		return 1
	}
	return 0
}
