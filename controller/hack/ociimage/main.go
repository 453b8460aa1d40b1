// Command ociimage builds the controller's release without a docker daemon: static linux/amd64 and
// linux/arm64 binaries, and an OCI image layout (a multi-arch index) of each binary alone on an
// empty base. Everything is reproducible: the binaries are built with -trimpath and no build id,
// the layer's tar has fixed owners, modes and times, and the config's dates come from
// SOURCE_DATE_EPOCH (default 0), so two runs give the same digests.
//
//	cd controller && go run ./hack/ociimage -out dist
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/release"
)

func main() {
	out := flag.String("out", "dist", "output directory: binaries and oci/ (an OCI image layout)")
	ref := flag.String("ref", release.ImageRef, "image reference recorded in the layout")
	flag.Parse()
	created := time.Unix(0, 0).UTC()
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v))
		}
		created = time.Unix(n, 0).UTC()
	}
	var bins []binary
	for _, arch := range []string{"amd64", "arm64"} {
		path := filepath.Join(*out, "acr-credential-controller_linux_"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-buildvcs=false")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fail(fmt.Errorf("go build for linux/%s: %w", arch, err))
		}
		bins = append(bins, binary{arch: arch, path: path})
	}
	digest, err := writeLayout(filepath.Join(*out, "oci"), *ref, created, bins)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s@%s\n", *ref, digest)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ociimage:", err)
	os.Exit(1)
}
