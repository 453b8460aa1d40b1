package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLogins(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "docker-credential-acr")
	l, err := OpenLoginsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := l.Get("a.example.com"); ok {
		t.Fatal("hit in an empty store")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("reading made the directory: %v", err)
	}
	if err := l.Put("a.example.com", "me", "pw-1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Put("b.example.com:5000", "you", "pw-2"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir: %v %v", fi, err)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if fi, _ := f.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f.Name(), fi.Mode())
		}
	}
	// A second process sees them.
	l2, err := OpenLoginsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u, s, ok := l2.Get("a.example.com"); !ok || u != "me" || s != "pw-1" {
		t.Fatalf("Get: %q %q %v", u, s, ok)
	}
	if _, _, ok := l2.Get("A.example.com"); ok {
		t.Error("hosts are canonical (lower case) before they get here")
	}
	list, err := l2.List()
	if err != nil || len(list) != 2 || list["b.example.com:5000"] != "you" {
		t.Fatalf("List: %v %v", list, err)
	}
	// A corrupt file is a miss.
	os.WriteFile(filepath.Join(dir, loginName("a.example.com")), []byte(`{"v":1,"kind":"login","host":"a.example.com"`), 0o600)
	if _, _, ok := l2.Get("a.example.com"); ok {
		t.Error("corrupt login served")
	}
	if ok, err := l2.Delete("b.example.com:5000"); !ok || err != nil {
		t.Fatalf("Delete: %v %v", ok, err)
	}
	if ok, _ := l2.Delete("b.example.com:5000"); ok {
		t.Error("second Delete found something")
	}
	if list, _ := l2.List(); len(list) != 0 {
		t.Errorf("after delete: %v", list)
	}
	// A store in a directory others can write is not used.
	os.Chmod(dir, 0o777)
	if _, err := OpenLoginsDir(dir); err == nil {
		t.Error("world-writable login dir accepted")
	}
}
