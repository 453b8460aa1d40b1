package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/release"
)

// The node image, built by the builder the release uses, holds a docker-credential-acr that runs
// the installer: its layer, unpacked into a throwaway root, gives a binary at the chart's
// node.binaryPath that answers version with the release's version and commit, and whose
// install-kubelet-plugin --dry-run against an empty kubeadm node root plans exactly the kubeadm
// changes with itself as the plugin, and writes nothing.
func TestNodeImageRunsInstaller(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("the node image's binaries are linux/amd64 and linux/arm64; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	o := presets["node"]
	o.moduleDir = "../../.." // the top-level module, from controller/hack/ociimage
	out := t.TempDir()
	digest, err := build(o, out, time.Unix(0, 0).UTC(), []string{runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	img := platformImage(t, filepath.Join(out, "oci"), digest, runtime.GOARCH)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/docker-credential-acr" {
		t.Errorf("entrypoint %q", got)
	}
	for k, want := range map[string]string{"org.opencontainers.image.source": release.Source, "org.opencontainers.image.licenses": "Apache-2.0", "org.opencontainers.image.version": "0.1.0"} {
		if cf.Config.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], want)
		}
	}

	imageRoot := t.TempDir()
	unpack(t, img, imageRoot)
	bin := filepath.Join(imageRoot, "docker-credential-acr") // the chart's node.binaryPath
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("the image has no /docker-credential-acr: %v", err)
	}
	sum := sha256.Sum256(data)

	commit, err := exec.Command("git", "-C", o.moduleDir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	ver := run(t, bin, 0, "version")
	if want := "docker-credential-acr (Alibaba Cloud Container Registry) 0.1.0 commit " + strings.TrimSpace(string(commit)) + " "; !strings.HasPrefix(ver, want) {
		t.Errorf("version: %q, want it to start with %q", ver, want)
	}

	nodeRoot := t.TempDir()
	got := run(t, bin, 0, "install-kubelet-plugin", "--root", nodeRoot, "--profile", "kubeadm", "--dry-run", "--no-restart")
	for _, want := range []string{
		fmt.Sprintf("new binary /var/lib/kubelet/credential-provider/bin/acr-credential-provider (%d bytes, sha256 %s)", len(data), hex.EncodeToString(sum[:])),
		"+++ b/etc/kubernetes/image-credential-provider-config.yaml",
		`  - name: "acr-credential-provider"`,
		"+++ b/etc/default/kubelet",
		`+KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/image-credential-provider-config.yaml --image-credential-provider-bin-dir=/var/lib/kubelet/credential-provider/bin"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("install-kubelet-plugin --dry-run: no %q in\n%s", want, got)
		}
	}
	if left, _ := os.ReadDir(nodeRoot); len(left) != 0 {
		t.Errorf("--dry-run wrote to the node root: %v", left)
	}
	// --check on the untouched node says it is not configured (exit 1), as the DaemonSet's
	// readiness probe relies on.
	if got := run(t, bin, 1, "install-kubelet-plugin", "--root", nodeRoot, "--profile", "kubeadm", "--check", "--no-restart"); !strings.Contains(got, "the node is not configured") {
		t.Errorf("--check: %s", got)
	}
}

// platformImage is the image for linux/arch in the index digest of the layout at dir.
func platformImage(t *testing.T, dir string, digest v1.Hash, arch string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if idx, err = idx.ImageIndex(digest); err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == arch {
			img, err := idx.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no linux/%s image in %+v", arch, im.Manifests)
	return nil
}

// unpack extracts the image's layers (regular files only, as the builder writes) under root.
func unpack(t *testing.T, img v1.Image, root string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Typeflag != tar.TypeReg || !filepath.IsLocal(h.Name) {
				t.Fatalf("layer entry %q (type %c): want local regular files only", h.Name, h.Typeflag)
			}
			p := filepath.Join(root, h.Name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
	}
}

// run runs the unpacked binary with a bare environment (no cloud credentials, proxies or HOME of
// the caller) and returns its stdout and stderr, failing unless it exits with code.
func run(t *testing.T, bin string, code int, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	if got != code {
		t.Fatalf("%s %v: exit %d, want %d\n%s", bin, args, got, code, out)
	}
	return string(out)
}
