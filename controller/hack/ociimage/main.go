// Command ociimage builds a release image without a docker daemon: static linux/amd64 and
// linux/arm64 binaries, and an OCI image layout (a multi-arch index) of the binary alone on an
// empty base. Two images are built the same way (-image):
//
//   - controller: acr-credential-controller, this module's command (deploy/deployment.yaml);
//   - node: docker-credential-acr, the top-level module's command, for the chart's node part
//     (its DaemonSet runs /docker-credential-acr install-kubelet-plugin), built with the flags in
//     .goreleaser.yaml (version and commit through -X).
//
// Everything is reproducible: the binaries are built with -trimpath and no build id, the layer's
// tar has fixed owners, modes and times, and the config's dates come from SOURCE_DATE_EPOCH
// (default 0), so two runs of the same commit give the same digests.
//
//	cd controller && go run ./hack/ociimage -out dist
//	cd controller && go run ./hack/ociimage -image node -out dist-node
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	which := flag.String("image", "controller", "which image: controller or node")
	out := flag.String("out", "dist", "output directory: binaries and oci/ (an OCI image layout)")
	ref := flag.String("ref", "", "image reference recorded in the layout (default: the release's for -image)")
	module := flag.String("module", "", "directory of the module to build (default: the -image's, relative to controller/)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected argument %q (flags only; see -h)", flag.Arg(0)))
	}
	o, ok := presets[*which]
	if !ok {
		fail(fmt.Errorf("-image %q: want controller or node", *which))
	}
	if *ref != "" {
		o.ref = *ref
	}
	if *module != "" {
		o.moduleDir = *module
	}
	created := time.Unix(0, 0).UTC()
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v))
		}
		created = time.Unix(n, 0).UTC()
	}
	digest, err := build(o, *out, created, []string{"amd64", "arm64"})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s@%s\n", o.ref, digest)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ociimage:", err)
	os.Exit(1)
}
