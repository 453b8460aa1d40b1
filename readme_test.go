package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The README is a contract: its first commands and its doctor walk-through are run here as
// written.

// readmeBlocks returns the fenced code blocks of the README section whose heading starts with
// heading, in order.
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n## "+heading)
	if i < 0 {
		t.Fatalf("README has no section %q", heading)
	}
	section := text[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	var blocks []string
	for _, part := range strings.Split(section, "```")[1:] {
		blocks = append(blocks, part)
	}
	var out []string
	for k := 0; k+1 < len(blocks); k += 2 { // opening fences only
		b := blocks[k]
		if nl := strings.IndexByte(b, '\n'); nl >= 0 {
			b = b[nl+1:] // drop the language tag
		}
		out = append(out, b)
	}
	return out
}

// goEnv keeps the Go tool's caches and settings for a command run with a scrubbed HOME.
func goEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT"} {
		vars[k] = strings.Split(strings.TrimSpace(string(out)), "\n")[i]
	}
	for _, k := range []string{"PATH", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY", "GONOSUMDB", "GOPRIVATE", "GOSUMDB", "GOINSECURE"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
}

// TestREADMETwoCommands runs the README's first command exactly as written, from the checkout,
// on a machine with no Alibaba Cloud account; and checks that the second is the command CI runs.
func TestREADMETwoCommands(t *testing.T) {
	blocks := readmeBlocks(t, "Two commands")
	if len(blocks) < 2 {
		t.Fatalf("the Two commands section has %d code blocks, want 2", len(blocks))
	}
	first := strings.TrimSpace(blocks[0])
	if strings.Contains(first, "\n") {
		t.Fatalf("the first command is more than one line: %q", first)
	}
	// The Go tool's own cache and module dirs are read before HOME is scrubbed: the command must
	// find the build cache and the modules already there (and never fetch them again).
	goVars := map[string]string{}
	goEnv(t, goVars)
	testkit.ScrubEnv(t)
	vars, _ := testkit.ChildEnv(t.TempDir())
	for k, v := range goVars {
		vars[k] = v
	}
	vars["GOPROXY"] = "off" // as written it needs nothing from the network once the modules are here
	cmd := exec.Command("sh", "-c", first)
	cmd.Env = testkit.Environ(vars)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", first, err, out)
	}
	for _, want := range []string{"Alibaba Cloud ACR: true", "edition:           personal", "region:            cn-hangzhou", "NOTE: no Alibaba Cloud credentials", "no problem found"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: output lacks %q:\n%s", first, want, out)
		}
	}

	second := strings.TrimSpace(blocks[1])
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(second) + `$`).Match(ci) {
		t.Errorf("the README's test command %q is not a line of .ci/run", second)
	}
}

// TestREADMEDoctorWalkThrough runs the doctor walk-through of the README against the fake with a
// RAM user that never set a registry password, and compares it line by line: "…" in the README
// stands for text that differs from machine to machine, and latencies are not compared.
func TestREADMEDoctorWalkThrough(t *testing.T) {
	blocks := readmeBlocks(t, "doctor: why did a pull fail?")
	if len(blocks) == 0 {
		t.Fatal("no walk-through in the doctor section")
	}
	lines := strings.Split(strings.TrimRight(blocks[0], "\n"), "\n")
	const prompt = "$ docker-credential-acr "
	if !strings.HasPrefix(lines[0], prompt) {
		t.Fatalf("the walk-through does not start with %q: %q", prompt, lines[0])
	}
	e := newEnv(t)
	// The real host names, reached through a stand-in for the internet: the registry answers
	// with ACR's Personal Edition challenge, the API hosts are the fake.
	e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{"registry.cn-beijing.aliyuncs.com": fakecloud.PersonalChallenge("cn-beijing")}.Handler()))
	nopw := testkit.Load().User("nopw")
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], e.vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = nopw.AccessKeyID, nopw.AccessKeySecret
	r := e.run("", strings.Fields(strings.TrimPrefix(lines[0], prompt))...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (a problem found); stderr %s", r.code, r.stderr)
	}
	ms := regexp.MustCompile(`[0-9]+\.[0-9] ms`)
	got := strings.Split(strings.TrimRight(ms.ReplaceAllString(r.stdout, "N ms"), "\n"), "\n")
	want := lines[1:]
	if len(got) != len(want) {
		t.Fatalf("doctor printed %d lines, the README shows %d:\n%s", len(got), len(want), r.stdout)
	}
	for i, w := range want {
		w = ms.ReplaceAllString(w, "N ms")
		if !matchesElided(strings.Join(strings.Fields(got[i]), " "), strings.Join(strings.Fields(w), " ")) {
			t.Errorf("line %d:\n got  %s\n README %s", i+1, got[i], w)
		}
	}
	if strings.Contains(r.stdout, nopw.AccessKeySecret) {
		t.Error("doctor printed the AccessKey secret")
	}
}

// matchesElided reports whether s matches pattern, where each "…" in pattern matches any text.
func matchesElided(s, pattern string) bool {
	parts := strings.Split(pattern, "…")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

// TestEveryFuzzTargetHasSeeds keeps the README's word on fuzzing ("seeds in each package's
// testdata/fuzz/"): each Fuzz target of the module has a seed directory of its own there.
func TestEveryFuzzTargetHasSeeds(t *testing.T) {
	target := regexp.MustCompile(`(?m)^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)`)
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() && path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range target.FindAllStringSubmatch(string(src), -1) {
			n++
			dir := filepath.Join(filepath.Dir(path), "testdata", "fuzz", m[1])
			if seeds, err := os.ReadDir(dir); err != nil || len(seeds) == 0 {
				t.Errorf("%s in %s has no seeds in %s", m[1], path, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Fatalf("found %d fuzz targets, want at least 6: the walk is broken", n)
	}
}

// TestREADMESeeItWork runs the README's "See it work without an account" command exactly as
// written, from the checkout, with a scrubbed environment and no network for the Go tool, and
// compares its output with the README's line by line ("…" stands for what differs from run to
// run; latencies are not compared). Then it runs the -shell form with a script on stdin.
func TestREADMESeeItWork(t *testing.T) {
	blocks := readmeBlocks(t, "See it work without an account")
	if len(blocks) < 2 {
		t.Fatalf("the section has %d code blocks, want 2 (the walk-through, the -shell command)", len(blocks))
	}
	lines := strings.Split(strings.TrimRight(blocks[0], "\n"), "\n")
	const prompt = "$ "
	if !strings.HasPrefix(lines[0], prompt) {
		t.Fatalf("the walk-through does not start with %q: %q", prompt, lines[0])
	}
	goVars := map[string]string{}
	goEnv(t, goVars)
	testkit.ScrubEnv(t)
	vars, _ := testkit.ChildEnv(t.TempDir())
	for k, v := range goVars {
		vars[k] = v
	}
	vars["GOPROXY"] = "off"
	cmd := exec.Command("sh", "-c", strings.TrimPrefix(lines[0], prompt))
	cmd.Env = testkit.Environ(vars)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", lines[0], err, out)
	}
	ms := regexp.MustCompile(`[0-9]+\.[0-9] ms`)
	got := strings.Split(strings.TrimRight(ms.ReplaceAllString(string(out), "N ms"), "\n"), "\n")
	want := lines[1:]
	if len(got) < len(want) {
		t.Fatalf("the demo printed %d lines, the README shows %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		w = ms.ReplaceAllString(w, "N ms")
		if !matchesElided(strings.Join(strings.Fields(got[i]), " "), strings.Join(strings.Fields(w), " ")) {
			t.Errorf("line %d:\n got    %s\n README %s", i+1, got[i], w)
		}
	}
	// What follows the walk-through names the -shell command of the README.
	shellCmd := strings.TrimSpace(blocks[1])
	if !strings.Contains(strings.Join(got[len(want):], "\n"), shellCmd) {
		t.Errorf("after the walk-through the demo does not name %q:\n%s", shellCmd, strings.Join(got[len(want):], "\n"))
	}

	// The -shell form: a shell in the same world, the helper on PATH.
	vars["SHELL"] = "/bin/sh"
	sh := exec.Command("sh", "-c", shellCmd)
	sh.Env = testkit.Environ(vars)
	sh.Stdin = strings.NewReader("echo registry.cn-hangzhou.aliyuncs.com | docker-credential-acr get\nexit\n")
	out, err = sh.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shellCmd, err, out)
	}
	// The walk-through cached the token; the shell's own get answers from the same HOME.
	if n := strings.Count(string(out), `{"ServerURL":"registry.cn-hangzhou.aliyuncs.com","Username":"cr_temp_user","Secret":"world-token-personal"}`); n != 3 {
		t.Errorf("%s: the shell's get did not answer (%d answers in all, want 3):\n%s", shellCmd, n, out)
	}
}

// TestREADMEInstall: the Install section names the one Go version of every go.mod of the
// repository (and no other Go version appears in the README), its install command is the one of
// "Two commands", and its man page command reads the clone's man page.
func TestREADMEInstall(t *testing.T) {
	var want string
	mods, _ := filepath.Glob("*/go.mod")
	for _, mod := range append([]string{"go.mod"}, mods...) {
		data, err := os.ReadFile(mod)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s has no go line", mod)
		}
		if want == "" {
			want = string(m[1])
		} else if string(m[1]) != want {
			t.Errorf("%s says go %s, go.mod says go %s: one Go version everywhere", mod, m[1], want)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`Go ([0-9]+\.[0-9]+(?:\.[0-9]+)?)`).FindAllSubmatch(readme, -1) {
		if string(m[1]) != want {
			t.Errorf("the README says Go %s, the go.mod files say %s", m[1], want)
		}
	}
	install := readmeBlocks(t, "Install")
	two := readmeBlocks(t, "Two commands")
	if len(install) == 0 || len(two) < 3 || strings.TrimSpace(install[0]) != strings.TrimSpace(two[2]) {
		t.Errorf("the Install section's command is not the install command of Two commands")
	}
	if !strings.Contains(string(readme), "Go "+want+" or newer") {
		t.Errorf("the README does not say Go %s or newer", want)
	}
	const manCmd = "man ./packaging/docker-credential-acr.1"
	if !strings.Contains(string(readme), "`"+manCmd+"`") {
		t.Fatalf("the Install section does not say how to read the man page from a clone (%s)", manCmd)
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("no man on this machine")
	}
	cmd := exec.Command("sh", "-c", manCmd)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100", "HOME=" + t.TempDir()}
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "credential helper for Alibaba Cloud Container Registry") {
		t.Errorf("%s: %v\n%.300s", manCmd, err, out)
	}
}

// TestREADMEPasswordToolsNeedAnAccount: the ctr/crictl/helm block says what get-login-password
// answers on a machine without credentials, and the binary answers that; in the demo's world it
// prints the user name and the password the block's commands take.
func TestREADMEPasswordToolsNeedAnAccount(t *testing.T) {
	const said = "without any they exit 1 saying\n`no Alibaba Cloud credentials found for …`"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), said) {
		t.Fatalf("the ctr/crictl/helm block does not say %q", said)
	}
	e := newEnv(t)
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	const host = "registry.cn-hangzhou.aliyuncs.com"
	r := e.run("", "get-login-password", host)
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "no Alibaba Cloud credentials found for "+host) ||
		!strings.Contains(r.stderr, "docker-credential-acr doctor "+host) {
		t.Errorf("no credentials: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	dev := testkit.Load().User("dev")
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], e.vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = dev.AccessKeyID, dev.AccessKeySecret
	user, pw := e.run("", "get-login-password", "--username", host), e.run("", "get-login-password", host)
	if user.code != 0 || pw.code != 0 || strings.TrimSpace(user.stdout) != "cr_temp_user" || strings.TrimSpace(pw.stdout) == "" ||
		strings.Count(pw.stdout, "\n") != 1 {
		t.Errorf("with credentials: user %d %q, password %d %q", user.code, user.stdout, pw.code, pw.stdout)
	}
	if n := e.fc.Count("GetAuthorizationToken"); n != 1 {
		t.Errorf("%d token calls for the user name and the password, want 1 (the second from the cache)", n)
	}
}

// TestREADMEE2EScenarios: the README's end-to-end paragraph names every scenario e2e/run.sh runs,
// and their number.
func TestREADMEE2EScenarios(t *testing.T) {
	run, err := os.ReadFile(filepath.Join("e2e", "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\nSCENARIOS=\(([^)]*)\)`).FindSubmatch(run)
	if m == nil {
		t.Fatal("e2e/run.sh has no SCENARIOS=( … )")
	}
	scenarios := strings.Fields(string(m[1]))
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "\n## End-to-end tests")
	if i < 0 {
		t.Fatal("README has no End-to-end tests section")
	}
	section := text[i+1:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	section = strings.Join(strings.Fields(section), " ")
	if want := fmt.Sprintf("The %d scenarios", len(scenarios)); !strings.Contains(section, want) {
		t.Errorf("the e2e paragraph does not say %q", want)
	}
	for _, s := range scenarios {
		if !strings.Contains(section, "`"+s+"`") {
			t.Errorf("the e2e paragraph does not name the scenario %s", s)
		}
	}
	named := regexp.MustCompile("`([a-z0-9]+(?:-[a-z0-9]+)+)`").FindAllStringSubmatch(section, -1)
	for _, n := range named {
		if !strings.Contains(" "+strings.Join(scenarios, " ")+" ", " "+n[1]+" ") {
			t.Errorf("the e2e paragraph names %s, which e2e/run.sh does not run", n[1])
		}
	}
}

// TestREADMEDoctorProposal runs the doctor section's second example on a machine with no
// account and no config file, and compares it line by line ("…" stands for any text).
func TestREADMEDoctorProposal(t *testing.T) {
	blocks := readmeBlocks(t, "doctor: why did a pull fail?")
	if len(blocks) < 2 {
		t.Fatal("no proposal example in the doctor section")
	}
	lines := strings.Split(strings.TrimRight(blocks[1], "\n"), "\n")
	const prompt = "$ docker-credential-acr "
	if !strings.HasPrefix(lines[0], prompt) {
		t.Fatalf("the example does not start with %q: %q", prompt, lines[0])
	}
	e := newEnv(t)
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	r := e.run("", strings.Fields(strings.TrimPrefix(lines[0], prompt))...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	got := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(got) != len(lines)-1 {
		t.Fatalf("doctor printed %d lines, the README shows %d:\n%s", len(got), len(lines)-1, r.stdout)
	}
	for i, w := range lines[1:] {
		if !matchesElided(strings.Join(strings.Fields(got[i]), " "), strings.Join(strings.Fields(w), " ")) {
			t.Errorf("line %d:\n got    %s\n README %s", i+1, got[i], w)
		}
	}
	if n := len(e.fc.Calls()); n != 0 {
		t.Errorf("doctor made %d API calls offline", n)
	}
}
