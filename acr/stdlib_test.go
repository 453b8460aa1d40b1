package acr

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps acr a package that config, internal/dockerconfig and anything else
// can import for free: its product files import the standard library only (the SDK calls live in
// acr/crapi). A standard-library path has no dot in its first element.
func TestStandardLibraryOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range file.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") {
				t.Errorf("%s imports %s: acr is standard library only; put SDK or project code in acr/crapi or above", f, path)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("checked only %d files: is the test running in acr/?", checked)
	}
}
