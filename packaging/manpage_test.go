// Package packaging holds what the release puts around the binary: the man page that the .deb,
// .rpm, .apk packages, the archives and the Homebrew formula install, and the SBOM command of
// .goreleaser.yaml. Its tests keep the man page in step with the binary's --help, the README and
// the files the packages install.
package packaging

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const manPage = "docker-credential-acr.1"

// manText is the man page as a reader sees it: comments dropped, font escapes and macro names
// removed, \- as -, so that names can be searched for as plain words.
func manText(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	unescape := strings.NewReplacer(`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "", `\(->`, "->", `\e`, `\`, `"`, "")
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, `.\"`) {
			continue
		}
		if strings.HasPrefix(line, ".") { // a macro: keep its arguments
			if i := strings.IndexByte(line, ' '); i > 0 {
				line = line[i+1:]
			} else {
				line = ""
			}
		}
		b.WriteString(unescape.Replace(line))
		b.WriteByte('\n')
	}
	return b.String()
}

// section returns the text of the man page section NAME (up to the next .SH).
func section(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	parts := regexp.MustCompile(`(?m)^\.SH `).Split(string(raw), -1)
	for _, p := range parts {
		if strings.HasPrefix(p, name+"\n") || strings.HasPrefix(p, `"`+name+`"`) {
			return strings.NewReplacer(`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "").Replace(p)
		}
	}
	t.Fatalf("%s has no section %s", manPage, name)
	return ""
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// helpText builds the helper and returns what its --help prints.
func helpText(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "docker-credential-acr")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "--help")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-credential-acr --help: %v", err)
	}
	return string(out)
}

// usageForms parses the "Usage:" lines of --help into command -> flags.
func usageForms(help string) map[string][]string {
	forms := map[string][]string{}
	usageLine := regexp.MustCompile(`^(?:Usage:\s+|\s+)docker-credential-acr\s+(.*)$`)
	for _, line := range strings.Split(help, "\n") {
		m := usageLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rest := m[1]
		if j := strings.Index(rest, "("); j >= 0 { // a remark
			rest = rest[:j]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		var flags []string
		for _, f := range fields[1:] {
			f = strings.Trim(f, "[].")
			if strings.HasPrefix(f, "--") {
				flags = append(flags, f)
			}
		}
		for _, cmd := range strings.Split(strings.Trim(fields[0], "<>{}"), "|") {
			forms[cmd] = append(forms[cmd], flags...) // a command may have several usage lines
		}
	}
	return forms
}

func TestManPageSynopsisMatchesHelp(t *testing.T) {
	forms := usageForms(helpText(t))
	if len(forms) < 5 {
		t.Fatalf("--help names only %d commands (%v): the parser or the help text changed", len(forms), forms)
	}
	synopsis := section(t, "SYNOPSIS")
	commands := section(t, "COMMANDS")
	for cmd, flags := range forms {
		if !regexp.MustCompile(`(^|[\s|{])` + regexp.QuoteMeta(cmd) + `($|[\s|}])`).MatchString(synopsis) {
			t.Errorf("SYNOPSIS of %s lacks the command %q that --help shows", manPage, cmd)
		}
		if !strings.Contains(commands, cmd) {
			t.Errorf("COMMANDS of %s does not describe %q", manPage, cmd)
		}
		for _, f := range flags {
			if !strings.Contains(synopsis, f) {
				t.Errorf("SYNOPSIS of %s lacks %s %s that --help shows", manPage, cmd, f)
			}
		}
	}
	// And the other way: the synopsis names no command that the binary does not have.
	for _, m := range regexp.MustCompile(`(?m)^\.B docker-credential-acr ([a-z-]+)`).FindAllStringSubmatch(synopsis, -1) {
		if _, ok := forms[m[1]]; !ok {
			t.Errorf("SYNOPSIS of %s names %q, which --help does not", manPage, m[1])
		}
	}
	for _, m := range regexp.MustCompile(`--[a-z][a-z-]+`).FindAllString(synopsis, -1) {
		found := false
		for _, flags := range forms {
			for _, f := range flags {
				found = found || f == m
			}
		}
		if !found {
			t.Errorf("SYNOPSIS of %s names %s, which --help does not", manPage, m)
		}
	}
}

var envName = regexp.MustCompile(`\b(DOCKER_CREDENTIAL_ACR|ALIBABA_CLOUD)_[A-Z0-9_]*[A-Z0-9]\b`)

func names(re *regexp.Regexp, s string) []string {
	set := map[string]bool{}
	for _, m := range re.FindAllString(s, -1) {
		set[m] = true
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func TestManPageEnvironmentMatchesREADME(t *testing.T) {
	inREADME := names(envName, readme(t))
	inMan := names(envName, manText(t))
	if len(inREADME) < 10 {
		t.Fatalf("README names only %d environment variables: %v", len(inREADME), inREADME)
	}
	diff := func(a, b []string) []string {
		var out []string
		for _, x := range a {
			if i := sort.SearchStrings(b, x); i == len(b) || b[i] != x {
				out = append(out, x)
			}
		}
		return out
	}
	if missing := diff(inREADME, inMan); len(missing) > 0 {
		t.Errorf("%s does not name these variables of the README: %v", manPage, missing)
	}
	if extra := diff(inMan, inREADME); len(extra) > 0 {
		t.Errorf("%s names variables the README does not: %v", manPage, extra)
	}
}

// The configuration keys of the README: the keys of its configuration example and the first
// column of its key table.
func readmeConfigKeys(t *testing.T) []string {
	t.Helper()
	text := readme(t)
	start := strings.Index(text, "## Configuration file")
	if start < 0 {
		t.Fatal("README has no '## Configuration file' section")
	}
	text = text[start:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	keys := map[string]bool{}
	if i := strings.Index(text, "```yaml\n"); i >= 0 {
		block := text[i+len("```yaml\n"):]
		block = block[:strings.Index(block, "```")]
		for _, m := range regexp.MustCompile(`(?m)^\s*(?:-\s+)?([a-zA-Z]+):`).FindAllStringSubmatch(block, -1) {
			keys[m[1]] = true
		}
	}
	for _, m := range regexp.MustCompile("(?m)^\\| (`[^|]*)\\|").FindAllStringSubmatch(text, -1) {
		for _, k := range regexp.MustCompile("`([a-zA-Z]+)`").FindAllStringSubmatch(m[1], -1) {
			keys[k[1]] = true
		}
	}
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestManPageConfigKeysMatchREADME(t *testing.T) {
	keys := readmeConfigKeys(t)
	if len(keys) < 15 {
		t.Fatalf("found only %d configuration keys in the README: %v", len(keys), keys)
	}
	config := section(t, "CONFIGURATION")
	for _, k := range keys {
		if !regexp.MustCompile(`\b` + k + `\b`).MatchString(config) {
			t.Errorf("CONFIGURATION of %s does not name the key %q of the README", manPage, k)
		}
	}
}

// nfpmInstalls returns the paths the packages of .goreleaser.yaml install (binary, symlinks, files).
func nfpmInstalls(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			ID     string `yaml:"id"`
			Binary string `yaml:"binary"`
		} `yaml:"builds"`
		NFPMs []struct {
			IDs      []string `yaml:"ids"`
			Bindir   string   `yaml:"bindir"`
			Contents []struct {
				Dst  string `yaml:"dst"`
				Type string `yaml:"type"`
			} `yaml:"contents"`
		} `yaml:"nfpms"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.NFPMs) == 0 {
		t.Fatal(".goreleaser.yaml has no nfpms")
	}
	binary := map[string]string{}
	for _, b := range cfg.Builds {
		binary[b.ID] = b.Binary
	}
	var paths []string
	for _, n := range cfg.NFPMs {
		for _, id := range n.IDs {
			paths = append(paths, n.Bindir+"/"+binary[id])
		}
		for _, c := range n.Contents {
			if c.Type != "dir" && !strings.HasPrefix(c.Dst, "/usr/share/") {
				paths = append(paths, c.Dst)
			}
		}
	}
	return paths
}

func TestManPageFilesMatchPackages(t *testing.T) {
	files := section(t, "FILES")
	installs := nfpmInstalls(t)
	if len(installs) < 2 {
		t.Fatalf("the packages install only %v", installs)
	}
	for _, p := range installs {
		if !strings.Contains(files, p) {
			t.Errorf("FILES of %s does not name %s, which the packages install", manPage, p)
		}
	}
	if !strings.Contains(readme(t), "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec") {
		t.Errorf("the README does not name the kubelet plugin directory the packages install into")
	}
}

// groff, where it is installed, finds no syntax problem (-ww: all warnings).
func TestManPageRenders(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed (Debian: groff-base)")
	}
	cmd := exec.Command(groff, "-man", "-ww", "-z", manPage)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
	}
}

// TestManPageExitStatus: the exit codes the man page states are the binary's.
func TestManPageExitStatus(t *testing.T) {
	status := strings.Join(strings.Fields(section(t, "EXIT STATUS")), " ")
	for _, want := range []string{"0 on success", "1 when there are no credentials", "for an unknown command", "2 for bad usage"} {
		if !strings.Contains(status, want) {
			t.Errorf("EXIT STATUS lacks %q: %s", want, status)
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "docker-credential-acr")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"doctor", "--help"}, 0},
		{[]string{"get", "--help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"frobnicate"}, 1},
		{[]string{"doctor"}, 2},
		{[]string{"doctor", "--nope", "x"}, 2},
		{[]string{"get-login-password"}, 2},
		{[]string{"configure-docker", "--nope"}, 2},
		{[]string{"print-kubelet-config", "extra"}, 2},
	} {
		cmd := exec.Command(bin, tt.args...)
		cmd.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "XDG_DATA_HOME=" + home, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"}
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code {
			t.Errorf("docker-credential-acr %s: exit %d, the man page says %d", strings.Join(tt.args, " "), code, tt.code)
		}
	}
}
