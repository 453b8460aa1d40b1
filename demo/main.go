//go:build fakecloud

// Command demo shows docker-credential-acr at work without an Alibaba Cloud account: it builds the
// helper from this clone, starts the fake Alibaba Cloud of testdata/world.json on loopback and
// stand-ins for the registries' host names, and runs the real binary against them as docker
// would: a get, the same get served from the cache, an Enterprise get and doctor --online. Each
// command is printed as you would type it, with its output and the API calls it made.
//
//	go run -tags fakecloud ./demo           # the walk-through, then everything is removed
//	go run -tags fakecloud ./demo -shell    # then a shell in the same world, to try your own
//
// Nothing leaves the machine: the API endpoints are overridden to the fake on 127.0.0.1, and the
// registries' /v2/ challenges (read by doctor --online) come from an HTTPS proxy on 127.0.0.1
// that answers every name itself. HOME, the cache and the login store are a fresh temporary
// directory. It builds with the fakecloud tag only, so `go install ./...` leaves it out.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/internet"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// The world's user whose AccessKey the helper gets, and the hosts it is shown.
const (
	user           = "dev"
	personalHost   = "registry.cn-hangzhou.aliyuncs.com"
	enterpriseHost = "team-registry.cn-beijing.cr.aliyuncs.com"
)

func run(out io.Writer) error {
	shell := flag.Bool("shell", false, "after the walk-through, open $SHELL (else sh) in the same world; exit the shell to stop")
	world := flag.String("world", filepath.Join("testdata", "world.json"), "the fake world to play")
	keep := flag.Bool("keep", false, "keep the temporary HOME (cache, logins) and print where it is")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags: -shell, -world, -keep)", flag.Args())
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run it from the top directory of the clone: go run -tags fakecloud ./demo")
	}

	tmp, err := os.MkdirTemp("", "docker-credential-acr-demo-")
	if err != nil {
		return err
	}
	if *keep {
		defer fmt.Fprintf(out, "\nkept %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// The real binary, built from this clone as `go install .` would.
	binDir := filepath.Join(tmp, "bin")
	bin := filepath.Join(binDir, "docker-credential-acr"+exeSuffix())
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %v", err)
	}

	sc, err := fakecloud.LoadScenario(*world)
	if err != nil {
		return err
	}
	fc := fakecloud.New()
	if err := fc.Apply(sc); err != nil {
		return err
	}
	if err := fc.Start(); err != nil {
		return err
	}
	defer fc.Close()
	in, err := internet.Start(tmp, "", challenges(sc).Handler())
	if err != nil {
		return err
	}
	defer in.Close()

	u, ok := findUser(sc, user)
	if !ok {
		return fmt.Errorf("%s has no user %q", *world, user)
	}
	env, _ := testkit.ChildEnv(filepath.Join(tmp, "home"))
	for k, v := range map[string]string{
		"PATH":                               binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"ALIBABA_CLOUD_ACCESS_KEY_ID":        u.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":    u.AccessKeySecret,
		"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT":  fc.URL(),
		"ALIBABA_CLOUD_STS_ENDPOINT":         fc.URL(),
		"DOCKER_CREDENTIAL_ACR_KMS_ENDPOINT": fc.URL(),
		"HTTPS_PROXY":                        in.URL,
		"SSL_CERT_FILE":                      in.CAFile,
	} {
		env[k] = v
	}

	fmt.Fprintf(out, "docker-credential-acr against a fake Alibaba Cloud, on this machine only:\n")
	fmt.Fprintf(out, "  world:       %s: user %q of account %s, its AccessKey in ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET\n", *world, u.Name, u.AccountID)
	fmt.Fprintf(out, "  API:         %s (DOCKER_CREDENTIAL_ACR_CR_ENDPOINT, ALIBABA_CLOUD_STS_ENDPOINT)\n", fc.URL())
	fmt.Fprintf(out, "  registries:  stand-ins under their real names, through HTTPS_PROXY=%s\n", in.URL)
	fmt.Fprintf(out, "  HOME:        a new temporary directory (the token cache is in it)\n")

	steps := []struct {
		stdin string
		args  []string
	}{
		{personalHost, []string{"get"}},
		{personalHost, []string{"get"}}, // again: from the cache
		{enterpriseHost, []string{"get"}},
		{"", []string{"doctor", "--online", enterpriseHost}},
	}
	for _, s := range steps {
		fc.ResetCalls()
		cmdline := "docker-credential-acr " + strings.Join(s.args, " ")
		if s.stdin != "" {
			cmdline = "echo " + s.stdin + " | " + cmdline
		}
		fmt.Fprintf(out, "\n$ %s\n", cmdline)
		cmd := exec.Command(bin, s.args...)
		cmd.Env = testkit.Environ(env)
		cmd.Stdin = strings.NewReader(s.stdin + "\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		t0 := time.Now()
		err := cmd.Run()
		took := time.Since(t0)
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			return err
		}
		out.Write(stdout.Bytes())
		out.Write(stderr.Bytes())
		calls := describeCalls(fc.Calls())
		if s.args[0] == "get" && code == 0 && len(fc.Calls()) == 0 {
			calls += ": the token came from the cache"
		}
		fmt.Fprintf(out, "# exit %d, %.1f ms, %s\n", code, float64(took.Microseconds())/1000, calls)
	}

	if !*shell {
		fmt.Fprintf(out, "\nTry your own commands in this world (a shell with the same environment):\n  go run -tags fakecloud ./demo -shell\n")
		return nil
	}
	return openShell(out, env, bin)
}

// challenges are the /v2/ challenges of the world's registries, as ACR answers them: the
// Personal Edition hosts of each region, and each instance's default domains and custom domains.
func challenges(sc *fakecloud.Scenario) fakecloud.Challenges {
	cs := fakecloud.Challenges{}
	for _, r := range sc.Regions {
		for _, p := range []string{"registry.", "registry-vpc.", "registry-internal."} {
			cs[p+r+".aliyuncs.com"] = fakecloud.PersonalChallenge(r)
		}
	}
	for _, i := range sc.Instances {
		spec := fakecloud.ChallengeSpec{Realm: fakecloud.RealmClassic, Region: i.Region, Suffix: "china:" + i.ID}
		cs[i.Name+"-registry."+i.Region+".cr.aliyuncs.com"] = spec
		cs[i.Name+"-registry-vpc."+i.Region+".cr.aliyuncs.com"] = spec
		for _, d := range i.CustomDomains {
			cs[d] = spec
		}
	}
	for h, c := range sc.Challenges {
		cs[h] = c
	}
	return cs
}

func findUser(sc *fakecloud.Scenario, name string) (fakecloud.User, bool) {
	for _, u := range sc.Users {
		if u.Name == name {
			return u, true
		}
	}
	return fakecloud.User{}, false
}

// describeCalls says which API calls a command made: none means the answer came from the cache
// (or needed no call).
func describeCalls(calls []fakecloud.Call) string {
	if len(calls) == 0 {
		return "0 API calls"
	}
	var names []string
	for _, c := range calls {
		n := c.Service + " " + c.Action
		if c.Service == "cr" && c.Action == "GetAuthorizationToken" && c.Version == "2016-06-07" {
			n += " (Personal Edition)"
		}
		if c.Status >= 400 {
			n += fmt.Sprintf(" → %d %s", c.Status, c.ErrorCode)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	word := "calls"
	if len(calls) == 1 {
		word = "call"
	}
	return fmt.Sprintf("%d API %s: %s", len(calls), word, strings.Join(names, ", "))
}

// openShell runs the user's shell in the demo's world until it exits.
func openShell(out io.Writer, env map[string]string, bin string) error {
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "sh"
	}
	env["TERM"] = os.Getenv("TERM")
	env["PS1"] = "(acr demo) $ "
	fmt.Fprintf(out, "\nA shell in this world: docker-credential-acr is %s, HOME is the demo's.\n", bin)
	fmt.Fprintf(out, "Try: docker-credential-acr doctor --online registry.cn-beijing.aliyuncs.com corp-registry.cn-hangzhou.cr.aliyuncs.com\n")
	fmt.Fprintf(out, "     echo registry.example.com | docker-credential-acr get   (a custom domain: not served until the config lists it)\n")
	fmt.Fprintf(out, "Exit the shell to stop the fake.\n\n")
	cmd := exec.Command(sh)
	cmd.Env = testkit.Environ(env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(os.Interrupt) // ^C belongs to the shell
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); ok {
		return nil
	}
	return err
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}
