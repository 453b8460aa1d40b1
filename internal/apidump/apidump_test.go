package apidump

import (
	"os"
	"path/filepath"
	"testing"
)

// What the dump keeps (exported declarations, signatures only, exported fields with a marker for
// the rest) and what it leaves out (comments, bodies, unexported names, tests).
func TestDump(t *testing.T) {
	dir := t.TempDir()
	src := `package p

// A is documented.
type A struct {
	X int // a comment
	y string
}

type b int

// F has a body.
func F(a A) error { return nil }

func (a *A) M() {}
func (x b) N() {}
func g() {}

const C, d = 1, 2

var E = "e"
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\nfunc TestX() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Dump("p", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "# p\n\nconst C = 1\nfunc (a *A) M()\nfunc F(a A) error\ntype A struct {\n\tX int\n\t_ unexported\n}\nvar E = \"e\"\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
