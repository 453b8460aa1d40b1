package credhelper

import (
	"fmt"
	"strings"
)

// The usage of the commands without flags of their own (the others print theirs, with their
// flags, for --help). Each starts with the form `Usage: docker-credential-acr COMMAND`.
const (
	versionUsage = `Usage: docker-credential-acr version

Prints the version, the commit and the Go version of this build.`

	helpUsage = `Usage: docker-credential-acr help [COMMAND]

Lists the commands, or prints the usage of COMMAND (the same as COMMAND --help).`

	protocolUsage = `Usage: docker-credential-acr get|store|erase|list

The docker credential-helper protocol, run by docker, crane, skopeo, podman, buildkit and nerdctl for
the registries that name "acr" in the "credHelpers" of ~/.docker/config.json:
  get    reads a registry host on stdin; prints {"ServerURL","Username","Secret"} (exit 0), or
         "credentials not found in native keychain" (exit 1: the client goes on anonymously)
  store  reads {"ServerURL","Username","Secret"} on stdin: keeps a docker login (crpi- instances)
  erase  reads a registry host on stdin: forgets its stored login and cached tokens (docker logout)
  list   prints the stored logins as {"ServerURL": "Username"}
Try: echo registry.cn-hangzhou.aliyuncs.com | docker-credential-acr get
Run "docker-credential-acr doctor HOST" to see why a host gets no login.`

	kubeletUsage = `Usage: docker-credential-acr kubelet
       acr-credential-provider

The kubelet image credential provider: reads a CredentialProviderRequest (JSON) on stdin and prints
the CredentialProviderResponse. The kubelet runs it; "docker-credential-acr print-kubelet-config"
prints the kubelet's config for it.`
)

// helpFlags are the arguments that ask a command for its usage.
var helpFlags = map[string]bool{"-h": true, "-help": true, "--help": true}

// askedForHelp reports whether args (those after the command) ask for its usage.
func askedForHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if helpFlags[a] {
			return true
		}
	}
	return false
}

// unknownCommand answers a first argument that names no command: the docker protocol's error on
// stdout (a program speaking the protocol reads it there), and for the person who typed it the
// nearest command and where the list is, on stderr.
func unknownCommand(inv *invocation) int {
	name := truncate(inv.name)
	fmt.Fprintf(inv.Stdout, "unknown command %q: want get, store, erase, list or version (docker-credential-acr, the Alibaba Cloud Container Registry helper)\n", name)
	hint := fmt.Sprintf("docker-credential-acr: unknown command %q.", name)
	if n := nearestCommand(inv.name); n != "" {
		hint += fmt.Sprintf(" Did you mean %q?", n)
	}
	fmt.Fprintln(inv.Stderr, hint+` Run "docker-credential-acr help" for the commands.`)
	return 1
}

// nearestCommand is the command name closest to name: one edit (or swap) away per three letters,
// at least two, or a command that name begins or is the beginning of; "" when none is near.
func nearestCommand(name string) string {
	name = strings.ToLower(strings.TrimLeft(name, "-"))
	if name == "" || len(name) > 64 {
		return ""
	}
	best, bestD := "", 0
	for _, c := range append(commands, dockerProtocol) {
		for _, n := range c.names {
			if strings.HasPrefix(n, "-") {
				continue
			}
			d := editDistance(name, n)
			if len(name) >= 4 && (strings.HasPrefix(n, name) || strings.HasPrefix(name, n)) {
				d = 1
			}
			if limit := max(2, len(n)/3); d <= limit && (best == "" || d < bestD) {
				best, bestD = n, d
			}
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b: insertions, deletions,
// substitutions and swaps of neighbours each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// flagsFirst moves the flags among args before the other arguments, keeping their order, and puts
// "--" between them, so that `doctor HOST --online` means what `doctor --online HOST` does (the
// flag package stops at the first non-flag). For commands whose flags are all booleans; what
// follows a "--" of args is never a flag.
func flagsFirst(args []string) []string {
	var flags, rest []string
	for i, a := range args {
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
		} else {
			rest = append(rest, a)
		}
	}
	return append(append(flags, "--"), rest...)
}
