package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Two builds of the same binaries give the same index digest, and the layout reads back as a
// linux/amd64 + linux/arm64 index whose images run the binary as a non-root user.
func TestLayoutReproducible(t *testing.T) {
	dir := t.TempDir()
	var bins []binary
	for _, arch := range []string{"amd64", "arm64"} {
		p := filepath.Join(dir, "bin-"+arch)
		if err := os.WriteFile(p, []byte("#!fake binary for "+arch), 0o755); err != nil {
			t.Fatal(err)
		}
		bins = append(bins, binary{arch: arch, path: p})
	}
	created := time.Unix(1700000000, 0).UTC()
	s := presets["controller"].image
	s.labels = map[string]string{"org.opencontainers.image.version": "1"}
	d1, err := writeLayout(filepath.Join(dir, "a"), "example/ref:v1", s, created, bins)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := writeLayout(filepath.Join(dir, "b"), "example/ref:v1", s, created, bins)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Fatalf("two builds: %s and %s", d1, d2)
	}
	p, err := layout.FromPath(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 || tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "example/ref:v1" || tm.Manifests[0].Digest != d1 {
		t.Fatalf("layout index %+v", tm.Manifests)
	}
	idx, err := top.ImageIndex(d1)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var archs []string
	for _, m := range im.Manifests {
		archs = append(archs, m.Platform.Architecture)
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		if cf.Config.User != "65532:65532" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/acr-credential-controller" || cf.Config.Labels["org.opencontainers.image.version"] != "1" || len(layers) != 1 || !cf.Created.Time.Equal(created) {
			t.Errorf("%s: config %+v, %d layers", m.Platform.Architecture, cf.Config, len(layers))
		}
	}
	if len(archs) != 2 || archs[0] != "amd64" || archs[1] != "arm64" {
		t.Errorf("platforms %v", archs)
	}
}
