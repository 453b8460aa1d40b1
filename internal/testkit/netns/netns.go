// Package netns runs a test inside a network namespace of its own, where the loopback device is up
// and also carries the ECS metadata address 100.100.100.200/32. A fake metadata service can then
// listen on the real address, and code under test reaches it exactly as it would on an ECS
// instance — directly, with no proxy and no redirection setting — while nothing can leave the
// machine: the namespace has no other device.
//
// It needs root (or user namespaces) and util-linux's unshare and iproute2's ip. Where they are
// missing, the test is skipped with a loud message, unless NETNS_NO_SKIP=1 (CI sets it), when it
// fails instead.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// MetadataAddr is the ECS metadata service's address, present on lo inside the namespace.
const MetadataAddr = "100.100.100.200"

const childEnv = "DCA_TEST_IN_NETNS"

// Enter makes the rest of the calling test run inside a fresh network namespace. It returns true
// in the namespace (the test goes on there); in the parent it re-runs this one test in the
// namespace, reports its result and returns false, and the caller returns at once:
//
//	if !netns.Enter(t) {
//		return
//	}
func Enter(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if why := unavailable(); why != "" {
		if os.Getenv("NETNS_NO_SKIP") == "1" {
			t.Fatalf("cannot make a network namespace (%s) and NETNS_NO_SKIP=1", why)
		}
		t.Skipf("SKIP LOUDLY: cannot make a network namespace (%s); run as root with unshare and ip installed", why)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := "ip link set lo up && ip addr add " + MetadataAddr + "/32 dev lo && exec \"$0\" \"$@\""
	args := []string{"--net", "--", "sh", "-c", script, exe, "-test.run", runPattern(t.Name()), "-test.count=1", "-test.v"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in the network namespace: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("in the network namespace:\n%s", out)
	}
	return false
}

// runPattern selects exactly the named (sub)test.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func unavailable() string {
	for _, tool := range []string{"unshare", "ip", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	if out, err := exec.Command("unshare", "--net", "--", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("unshare --net: %v %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}
