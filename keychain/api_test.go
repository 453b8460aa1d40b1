package keychain

import (
	"flag"
	"os"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/apidump"
)

var updateAPI = flag.Bool("update-api", false, "rewrite api.txt from the code")

// The exported API of keychain and keychain/ggcr is what api.txt records: a change of the API is
// a change of api.txt in the same commit, reviewed as such (README "Embedding": the promise).
// `go test ./keychain -run TestAPIFile -update-api` rewrites it.
func TestAPIFile(t *testing.T) {
	k, err := apidump.Dump("package keychain (github.com/docker-credential-acr/docker-credential-acr/keychain)", ".")
	if err != nil {
		t.Fatal(err)
	}
	g, err := apidump.Dump("package ggcr (github.com/docker-credential-acr/docker-credential-acr/keychain/ggcr)", "ggcr")
	if err != nil {
		t.Fatal(err)
	}
	got := k + "\n" + g
	if *updateAPI {
		if err := os.WriteFile("api.txt", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("api.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("the exported API differs from api.txt: if the change is meant, run `go test ./keychain -run TestAPIFile -update-api`, commit api.txt, and say in the release notes what changed (README \"Embedding\"). The API now:\n%s", got)
	}
}
