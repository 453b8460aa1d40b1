package readme

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// normalize makes a snippet comparable: no indentation, `if err != nil { return … }` on one
// line as `if err != nil { return err }`, and no blank lines.
func normalize(s string) string {
	s = regexp.MustCompile(`if err != nil \{\s*return [^\n]*\s*\}`).ReplaceAllString(s, "if err != nil { return err }")
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Each Go block of the README's "Embedding" section is the body of one function of readme.go
// (less its return), which go vet and go build compile with the module.
func TestREADMESnippets(t *testing.T) {
	data, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n## Embedding")
	if i < 0 {
		t.Fatal("README has no Embedding section")
	}
	section := text[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) != 2 {
		t.Fatalf("the Embedding section has %d Go blocks, want 2 (ggcr users, credentials.Helper users)", len(blocks))
	}
	src, err := os.ReadFile("readme.go")
	if err != nil {
		t.Fatal(err)
	}
	code := normalize(string(src))
	for _, b := range blocks {
		if want := normalize(b[1]); !strings.Contains(code, want) {
			t.Errorf("README snippet not in readme.go (so not compiled):\n%s", want)
		}
	}
}
