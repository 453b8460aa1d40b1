// Command docker-credential-acr is a docker credential helper for Alibaba Cloud Container Registry
// (ACR): it hands docker, nerdctl, buildkit, crane, skopeo, podman and the kubelet (the path for
// containerd and CRI-O on Kubernetes nodes, which run no credential helper themselves) temporary
// registry logins made from the machine's Alibaba Cloud credentials. main only wires: the commands
// and their rules are credhelper's command table.
package main

import (
	"os"
	"runtime/debug"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper"
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
	streams := credhelper.Streams{Stdin: os.Stdin, Stdout: stdout, Stderr: os.Stderr}
	os.Exit(credhelper.Main(os.Args, streams, os.Getenv, buildInfo()))
}

// buildInfo is the release build's version and commit, else what the Go toolchain recorded.
func buildInfo() credhelper.Build {
	b := credhelper.Build{Version: version, Commit: commit}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && b.Commit == "" {
				b.Commit = s.Value
			}
		}
	}
	return b
}
