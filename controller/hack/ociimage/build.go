package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/release"
)

// options say what to build and how to package it.
type options struct {
	moduleDir string // the module holding the command, relative to controller/ or absolute
	pkg       string // the command's package, relative to moduleDir
	name      string // the binaries' file name prefix in the output directory
	ref       string // the image reference recorded in the layout; its tag is the version
	stamp     bool   // -X main.version=<tag without v> -X main.commit=<HEAD>, as .goreleaser.yaml does
	image     spec
}

var presets = map[string]options{
	"controller": {
		moduleDir: ".", pkg: ".", name: "acr-credential-controller", ref: release.ImageRef,
		image: spec{path: "/acr-credential-controller"},
	},
	// The chart's node part runs the binary at node.binaryPath (/docker-credential-acr) with its
	// own command, as root; run by hand, the image is the CLI (e.g. install-kubelet-plugin --root
	// /host with the host's / mounted at /host).
	"node": {
		moduleDir: "..", pkg: ".", name: "docker-credential-acr", ref: release.NodeImageRef, stamp: true,
		image: spec{path: "/docker-credential-acr"},
	},
}

// version is the tag of an image reference without its leading v ("…:v0.1.0" → "0.1.0"), as
// goreleaser's {{ .Version }} is the tag without it.
func version(ref string) (string, error) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", fmt.Errorf("image reference %q has no tag (want …:v<version>)", ref)
	}
	return strings.TrimPrefix(ref[i+1:], "v"), nil
}

// build builds the command for linux on each of archs into out and writes out/oci, returning the
// index's digest.
func build(o options, out string, created time.Time, archs []string) (v1.Hash, error) {
	ver, err := version(o.ref)
	if err != nil {
		return v1.Hash{}, err
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return v1.Hash{}, err
	}
	ldflags := "-s -w -buildid="
	if o.stamp {
		commit, err := exec.Command("git", "-C", o.moduleDir, "rev-parse", "HEAD").Output()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("the commit to stamp (git rev-parse HEAD in %s): %w; build from a git checkout", o.moduleDir, err)
		}
		ldflags += fmt.Sprintf(" -X main.version=%s -X main.commit=%s", ver, strings.TrimSpace(string(commit)))
	}
	var bins []binary
	for _, arch := range archs {
		path := filepath.Join(out, o.name+"_linux_"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", path, o.pkg)
		cmd.Dir = o.moduleDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-buildvcs=false")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return v1.Hash{}, fmt.Errorf("go build of %s for linux/%s: %w", o.name, arch, err)
		}
		bins = append(bins, binary{arch: arch, path: path})
	}
	s := o.image
	s.labels = map[string]string{
		"org.opencontainers.image.source":   release.Source,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.version":  ver,
		"org.opencontainers.image.title":    o.name,
	}
	return writeLayout(filepath.Join(out, "oci"), o.ref, s, created, bins)
}
