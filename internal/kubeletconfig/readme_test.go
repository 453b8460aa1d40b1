package kubeletconfig

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// The README's Kubernetes section is a contract: each print-kubelet-config command in it runs
// (exit 0) as written, the first YAML block is exactly what the first command prints (comments
// aside), and every other YAML block is printed, line for line, by one of the commands.
func TestREADMEKubernetesSection(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Kubernetes")
	if !ok {
		t.Fatal("no Kubernetes section in the README")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	shell, yamls := fencedBlocks(section, "sh"), fencedBlocks(section, "yaml")
	var views [][]string // per command: the config without comments, the commented RBAC
	for _, block := range shell {
		for _, line := range block {
			args := strings.Fields(line)
			if len(args) < 2 || args[0] != "docker-credential-acr" || args[1] != "print-kubelet-config" {
				continue
			}
			args = args[2:]
			if i := slices.Index(args, ">"); i >= 0 {
				args = args[:i]
			}
			var out, errOut bytes.Buffer
			if code := Run(args, func(string) string { return "" }, &out, &errOut); code != 0 {
				t.Errorf("README: %s: exit %d: %s", line, code, errOut.String())
				continue
			}
			config, rbac := []string{}, []string{}
			inRBAC := false
			for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				switch {
				case l == "# "+kubeletRBACMarker:
					inRBAC = true
				case inRBAC:
					rbac = append(rbac, strings.TrimPrefix(l, "# "))
				case !strings.HasPrefix(strings.TrimSpace(l), "#"):
					config = append(config, l)
				}
			}
			views = append(views, config, rbac)
		}
	}
	if len(views) < 4 || len(yamls) < 3 {
		t.Fatalf("README: %d print-kubelet-config commands, %d YAML blocks", len(views)/2, len(yamls))
	}
	if got, want := strings.Join(yamls[0], "\n"), strings.Join(views[0], "\n"); got != want {
		t.Errorf("README's first YAML block:\n%s\nprinted:\n%s", got, want)
	}
	for _, y := range yamls[1:] {
		found := false
		for _, v := range views {
			found = found || containsLines(v, y)
		}
		if !found {
			t.Errorf("README's YAML block is printed by no command:\n%s", strings.Join(y, "\n"))
		}
	}
}

// fencedBlocks returns the lines of each ```lang block, dedented by the fence's indentation.
func fencedBlocks(text, lang string) [][]string {
	var blocks [][]string
	var cur []string
	indent, in := "", false
	for _, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(l, " ")
		switch {
		case !in && trimmed == "```"+lang:
			in, indent, cur = true, l[:len(l)-len(trimmed)], nil
		case in && trimmed == "```":
			in = false
			blocks = append(blocks, cur)
		case in:
			cur = append(cur, strings.TrimPrefix(l, indent))
		}
	}
	return blocks
}

func containsLines(haystack, needle []string) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if strings.Join(haystack[i:i+len(needle)], "\n") == strings.Join(needle, "\n") {
			return true
		}
	}
	return false
}
