package dockerconfig

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const host = "registry.cn-hangzhou.aliyuncs.com"

func found(string) (string, error)    { return "/usr/local/bin/docker-credential-acr", nil }
func notFound(string) (string, error) { return "", errors.New("not found") }

func writeFile(t *testing.T, dir, body string, mode fs.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, configFileName)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask
		t.Fatal(err)
	}
	return p
}

func TestConfigureFiles(t *testing.T) {
	const preserved = "{\n\t\"auths\": {\n\t\t\"" + host + "\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\t\"unknownKey\": {\"n\": 2.50, \"e\": 1e3, \"big\": 12345678901234567890123, \"s\": \"\\u00e9\\n\\/\"}\n}\n"
	tests := []struct {
		name      string
		body      *string // nil: no file
		mode      fs.FileMode
		hosts     []string
		dryRun    bool
		wantErr   string
		wantMode  fs.FileMode
		wantBody  string // exact; "" to skip
		wantOut   []string
		untouched bool // the file must be byte-identical afterwards
	}{
		{
			name: "new file", hosts: []string{host}, wantMode: 0o600,
			wantBody: "{\n\t\"credHelpers\": {\n\t\t\"" + host + "\": \"acr\"\n\t}\n}\n",
			wantOut:  []string{"created ", "added " + host + " -> acr"},
		},
		{
			name: "mode 0640 kept, everything else kept", body: ptr(preserved), mode: 0o640, hosts: []string{host}, wantMode: 0o640,
			wantBody: strings.TrimSuffix(preserved, "\n}\n") + ",\n\t\"credHelpers\": {\n\t\t\"" + host + "\": \"acr\"\n\t}\n}\n",
			wantOut:  []string{"updated ", "added " + host + " -> acr", "auths also holds a login for " + host},
		},
		{
			name: "dry run leaves the file alone and prints the plan", body: ptr(preserved), mode: 0o644, hosts: []string{"https://" + host + "/"}, dryRun: true,
			untouched: true, wantMode: 0o644,
			wantOut: []string{"would be changed", "added " + host + " -> acr", "dropped the scheme", "dry run: nothing was written", `credHelpers would be: {`},
		},
		{
			name: "dry run of a new file creates nothing", hosts: []string{host}, dryRun: true,
			wantOut: []string{"would be created", "added " + host},
		},
		{
			name: "invalid JSON refused, file untouched", body: ptr(`{"auths": {},}`), mode: 0o600, hosts: []string{host},
			wantErr: "not valid JSON", untouched: true, wantMode: 0o600,
		},
		{
			name: "top-level array refused", body: ptr(`[]`), mode: 0o600, hosts: []string{host},
			wantErr: "not a JSON object", untouched: true,
		},
		{
			name: "already configured: nothing written", body: ptr(`{"credHelpers":{"` + host + `":"acr"}}`), mode: 0o600, hosts: []string{host},
			untouched: true, wantOut: []string{"nothing written", "unchanged " + host},
		},
		{
			name: "existing helper for the host changed", body: ptr(`{"credHelpers":{"` + host + `":"acr-env","gcr.io":"gcloud"}}`), mode: 0o600, hosts: []string{host},
			wantBody: `{"credHelpers":{"` + host + `":"acr","gcr.io":"gcloud"}}`,
			wantOut:  []string{"changed " + host + ": acr-env -> acr"},
		},
		{
			name: "empty file is {}", body: ptr(""), mode: 0o600, hosts: []string{host},
			wantBody: "{\n\t\"credHelpers\": {\n\t\t\"" + host + "\": \"acr\"\n\t}\n}\n",
		},
		{
			name: "bad host refused", body: ptr(`{}`), mode: 0o600, hosts: []string{"registry.example.com/ns"},
			wantErr: "not a registry host", untouched: true,
		},
		{
			name: "no hosts", body: ptr(`{}`), mode: 0o600,
			wantErr: "--registries", untouched: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "docker")
			path := filepath.Join(dir, configFileName)
			var before []byte
			if tc.body != nil {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, *tc.body, tc.mode)
				before = []byte(*tc.body)
			}
			var out bytes.Buffer
			res, err := configure(options{ConfigDir: dir, Hosts: tc.hosts, DryRun: tc.dryRun, Out: &out, LookPath: found})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, rerr := os.ReadFile(path)
			if tc.body == nil && (tc.dryRun || tc.wantErr != "") {
				if rerr == nil {
					t.Fatal("file created")
				}
				if _, err := os.Stat(dir); err == nil {
					t.Fatal("directory created")
				}
			}
			if tc.untouched && !bytes.Equal(got, before) {
				t.Fatalf("file changed:\n%s", got)
			}
			if tc.wantBody != "" && string(got) != tc.wantBody {
				t.Fatalf("file\n%s\nwant\n%s", got, tc.wantBody)
			}
			if tc.wantMode != 0 && runtime.GOOS != "windows" {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != tc.wantMode {
					t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.wantMode)
				}
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "eDp5") {
				t.Errorf("report shows credentials from auths:\n%s", out.String())
			}
			if tc.wantErr == "" && res.Written == (tc.dryRun || tc.untouched) {
				t.Errorf("Written = %v", res.Written)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != configFileName {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestConfigureNewDirMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	dir := filepath.Join(t.TempDir(), "a", "docker")
	if _, err := configure(options{ConfigDir: dir, Hosts: []string{host}, LookPath: found}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode().Perm())
	}
}

func TestConfigureFollowsSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges")
	}
	base := t.TempDir()
	dotfiles := filepath.Join(base, "dotfiles")
	dir := filepath.Join(base, "docker")
	for _, d := range []string{dotfiles, dir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := writeFile(t, dotfiles, `{"a":1}`, 0o640)
	link := filepath.Join(dir, configFileName)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	res, err := configure(options{ConfigDir: dir, Hosts: []string{host}, LookPath: found})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	got, _ := os.ReadFile(target)
	if want := `{"a":1,"credHelpers":{"` + host + `":"acr"}}`; string(got) != want {
		t.Fatalf("target\n%s\nwant\n%s", got, want)
	}
	if res.Path != target {
		t.Errorf("Path %s, want %s", res.Path, target)
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}

	// A dangling link is refused.
	dangling := filepath.Join(base, "dangling")
	os.Mkdir(dangling, 0o700)
	os.Symlink(filepath.Join(base, "nowhere.json"), filepath.Join(dangling, configFileName))
	if _, err := configure(options{ConfigDir: dangling, Hosts: []string{host}, LookPath: found}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("dangling link: %v", err)
	}
}

func TestConfigureDefaultDir(t *testing.T) {
	d := filepath.Join(t.TempDir(), "cfg")
	env := map[string]string{"DOCKER_CONFIG": d}
	getenv := func(k string) string { return env[k] }
	res, err := configure(options{Hosts: []string{host}, LookPath: found, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(d, configFileName) {
		t.Errorf("Path %s", res.Path)
	}
	home := t.TempDir()
	env = map[string]string{"HOME": home}
	res, err = configure(options{Hosts: []string{host}, LookPath: found, DryRun: true, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(home, ".docker", configFileName) {
		t.Errorf("Path %s", res.Path)
	}
}

func TestConfigurePathWarning(t *testing.T) {
	dir := t.TempDir()
	var asked string
	res, err := configure(options{ConfigDir: dir, Hosts: []string{host}, DryRun: true,
		LookPath: func(s string) (string, error) { asked = s; return notFound(s) }})
	if err != nil {
		t.Fatal(err)
	}
	if asked != "docker-credential-acr" {
		t.Errorf("looked up %q", asked)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not on PATH") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

func TestConfigureRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, configFileName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := configure(options{ConfigDir: dir, Hosts: []string{host}, LookPath: found}); err == nil {
		t.Fatal("accepted a directory")
	}
}

func TestRun(t *testing.T) {
	defaults := func() ([]string, error) { return []string{"a.example.com", "b.example.com:5443"}, nil }
	none := func() ([]string, error) { return nil, nil }
	failing := func() ([]string, error) { return nil, errors.New("config file broken") }
	tests := []struct {
		name     string
		args     []string
		defaults func() ([]string, error)
		code     int
		stdout   []string
		stderr   []string
		hosts    []string // in the written file
	}{
		{name: "flag hosts", args: []string{"--registries", host + ",b.example.com"}, defaults: failing, code: 0,
			stdout: []string{"added " + host + " -> acr", "added b.example.com -> acr"}, hosts: []string{host, "b.example.com"}},
		{name: "repeated flag and = form", args: []string{"--registries=" + host, "-registries", "c.example.com"}, defaults: none, code: 0,
			hosts: []string{host, "c.example.com"}},
		{name: "hosts from the helper config", args: nil, defaults: defaults, code: 0,
			stdout: []string{"added a.example.com", "added b.example.com:5443"}, hosts: []string{"a.example.com", "b.example.com:5443"}},
		{name: "no hosts anywhere", args: nil, defaults: none, code: 1, stderr: []string{"--registries"}},
		{name: "nil defaults", args: []string{}, defaults: nil, code: 1, stderr: []string{"--registries"}},
		{name: "defaults fail", args: nil, defaults: failing, code: 1, stderr: []string{"config file broken"}},
		{name: "dry run", args: []string{"--dry-run", "--registries", host}, defaults: none, code: 0,
			stdout: []string{"dry run", "added " + host}},
		{name: "bad flag", args: []string{"--nope"}, defaults: none, code: 2, stderr: []string{"Usage:"}},
		{name: "positional", args: []string{host}, defaults: none, code: 2, stderr: []string{"unexpected argument"}},
		{name: "help", args: []string{"-h"}, defaults: none, code: 0, stdout: []string{"Usage:"}},
		{name: "bad host", args: []string{"--registries", "a.example.com/x,ok.example.com"}, defaults: none, code: 1, stderr: []string{"a.example.com/x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			getenv := func(k string) string { return map[string]string{"DOCKER_CONFIG": dir}[k] }
			var stdout, stderr bytes.Buffer
			code := Run(tc.args, getenv, tc.defaults, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			data, err := os.ReadFile(filepath.Join(dir, configFileName))
			if len(tc.hosts) == 0 {
				if err == nil && !strings.Contains(tc.name, "dry") {
					t.Errorf("file written:\n%s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := credHelpers(t, data)
			for _, h := range tc.hosts {
				if m[h] != "acr" {
					t.Errorf("credHelpers[%s] = %q in\n%s", h, m[h], data)
				}
			}
		})
	}
}
