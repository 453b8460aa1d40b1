//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 20 §2: a CLI config that another user owns, or that group or others can write, or that
// lies in such a directory, never has its process_command run (as root, under the kubelet, it
// ran as uid 0). The error names the file and the fix; no command runs, no call is made.
func TestExternalProfileOnlyFromATrustedFile(t *testing.T) {
	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, home, config string) string // returns the path to use
		want  string
	}{
		{"writable by others", func(t *testing.T, _, config string) string {
			os.Chmod(config, 0o666)
			return config
		}, "writable by group or others (mode 0666)"},
		{"in a directory others can write", func(t *testing.T, home, config string) string {
			dir := filepath.Join(home, "shared")
			os.Mkdir(dir, 0o777)
			os.Chmod(dir, 0o777)
			p := filepath.Join(dir, "config.json")
			if err := os.Rename(config, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "writable by group or others (mode 0777)"},
		{"owned by another user", func(t *testing.T, home, config string) string {
			if !root {
				t.Skip("needs root to give the file to another user")
			}
			os.Chmod(config, 0o644)
			if err := os.Chown(config, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return config
		}, "owned by uid 65534"},
		{"a link to a file another user owns", func(t *testing.T, home, config string) string {
			if !root {
				t.Skip("needs root to give the file to another user")
			}
			os.Chmod(config, 0o644)
			if err := os.Chown(config, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(home, "link.json")
			os.Symlink(config, link)
			return link
		}, "owned by uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, config, runs := externalEnv(t, "")
			path := tc.setup(t, e.home, config)
			e.vars["ALIBABA_CLOUD_CONFIG_FILE"] = path
			r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
			if r.code == 0 || runs() != 0 || len(e.fc.Calls()) != 0 {
				t.Fatalf("exit %d, %d runs, %d calls: %+v", r.code, runs(), len(e.fc.Calls()), r)
			}
			for _, want := range []string{tc.want, "process_command is not run", "chmod go-w"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q: %s", want, r.stderr)
				}
			}
		})
	}
	// The same file, private again, is used.
	e, config, runs := externalEnv(t, "")
	e.vars["ALIBABA_CLOUD_CONFIG_FILE"] = config
	if r := e.run("registry.cn-hangzhou.aliyuncs.com", "get"); r.code != 0 || runs() != 1 {
		t.Errorf("private file: exit %d, %d runs: %s", r.code, runs(), r.stderr)
	}
}
