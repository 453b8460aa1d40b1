package kubeletinstall

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// node is one test node: a root with a tree, the plugin binary to install and a restart command
// that records the units it was asked to restart.
type node struct {
	t             *testing.T
	root          string
	self          Self
	restarts      string // file the restart command appends to
	restartScript string
}

const selfBinary = "\x7fELF the plugin binary of this test\n"

func newNode(t *testing.T, tr tree) *node {
	t.Helper()
	dir := t.TempDir()
	n := &node{t: t, root: filepath.Join(dir, "root"), restarts: filepath.Join(dir, "restarts")}
	if err := os.MkdirAll(n.root, 0o755); err != nil {
		t.Fatal(err)
	}
	tr.write(t, n.root)
	n.self = Self{Path: filepath.Join(dir, "docker-credential-acr"), Version: "v1.2.3"}
	if err := os.WriteFile(n.self.Path, []byte(selfBinary), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "restart.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" >> "+n.restarts+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.restartScript = script
	return n
}

// run runs the command with args; it returns the exit code and the output.
func (n *node) run(args ...string) (int, string, string) {
	n.t.Helper()
	var out, errOut bytes.Buffer
	all := append([]string{"--root", n.root, "--restart-command", n.restartScript}, args...)
	code := Run(all, func(string) string { return "" }, n.self, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs the command and fails the test unless it succeeds.
func (n *node) mustRun(args ...string) string {
	n.t.Helper()
	code, out, errOut := n.run(args...)
	if code != 0 {
		n.t.Fatalf("install-kubelet-plugin %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// takeRestarts returns the units restarted since the last call.
func (n *node) takeRestarts() string {
	data, err := os.ReadFile(n.restarts)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		n.t.Fatal(err)
	}
	os.Remove(n.restarts)
	return strings.TrimSpace(string(data))
}

func (n *node) read(p string) string { return readTree(n.t, n.root, p) }

func (n *node) snapshot() map[string]string { return snapshot(n.t, n.root) }
