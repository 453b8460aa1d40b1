//go:build unix

package trustedpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const nobody = 65534

func TestResolve(t *testing.T) {
	euid := os.Geteuid()
	base := t.TempDir()
	mk := func(rel string, mode os.FileMode, uid int) string {
		p := filepath.Join(base, rel)
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if uid != euid {
			if euid != 0 {
				t.Skip("needs root to give files to another user")
			}
			if err := os.Chown(p, uid, uid); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	good := mk("good/", 0o755, euid)
	goodFile := mk("good/config.json", 0o644, euid)
	mk("open/", 0o777, euid)
	openFile := mk("open/config.json", 0o600, euid)
	mk("good/writable.json", 0o666, euid)
	mk("sticky/", os.ModeSticky|0o777, euid)
	stickyFile := mk("sticky/config.json", 0o600, euid)
	if err := os.Symlink(openFile, filepath.Join(good, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(goodFile, filepath.Join(good, "goodlink.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../open", filepath.Join(good, "dirlink")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		path, want, wantErr string
		exists              bool
	}{
		{path: goodFile, want: goodFile, exists: true},
		{path: filepath.Join(good, "goodlink.json"), want: goodFile, exists: true},
		{path: stickyFile, want: stickyFile, exists: true},
		{path: filepath.Join(good, "missing", "config.json"), want: filepath.Join(good, "missing", "config.json")},
		{path: openFile, wantErr: "writable by group or others (mode 0777)"},
		{path: filepath.Join(good, "writable.json"), wantErr: "writable by group or others (mode 0666)"},
		{path: filepath.Join(good, "link.json"), wantErr: "writable by group or others"},
		{path: filepath.Join(good, "dirlink", "config.json"), wantErr: "writable by group or others"},
	} {
		got, exists, err := Resolve(tc.path, euid, 0)
		var te *Error
		switch {
		case tc.wantErr != "":
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.path, err, tc.wantErr)
			}
		case err != nil || got != tc.want || exists != tc.exists:
			t.Errorf("%s: %q %v %v, want %q %v", tc.path, got, exists, err, tc.want, tc.exists)
		}
	}
	if euid != 0 {
		t.Skip("the rest needs root")
	}
	theirs := mk("theirs/", 0o755, nobody)
	theirFile := mk("good/their.json", 0o644, nobody)
	mine := filepath.Join(theirs, "mine.json")
	if err := os.WriteFile(mine, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{theirFile, mine} {
		if _, _, err := Resolve(p, 0); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Errorf("%s: %v", p, err)
		}
	}
	// A link owned by root to a file another user owns: the target is checked.
	link := filepath.Join(good, "totheirs.json")
	os.Symlink(theirFile, link)
	if _, _, err := Resolve(link, 0); err == nil || !strings.Contains(err.Error(), theirFile) {
		t.Errorf("link to their file: %v", err)
	}
}
