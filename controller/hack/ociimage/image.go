package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type binary struct {
	arch string
	path string
}

// spec is what an image holds besides its binary: where the binary goes, how it is run, and the
// image's labels.
type spec struct {
	path       string   // the binary's absolute path in the image, e.g. /docker-credential-acr
	entrypoint []string // the image's entrypoint; empty: the binary alone
	cmd        []string // its default arguments
	labels     map[string]string
}

// image is one binary alone on an empty base, run as an unprivileged user.
func image(b binary, s spec, created time.Time) (v1.Image, error) {
	if !strings.HasPrefix(s.path, "/") || strings.HasSuffix(s.path, "/") {
		return nil, fmt.Errorf("binary path %q in the image: want an absolute file path", s.path)
	}
	entrypoint := s.entrypoint
	if len(entrypoint) == 0 {
		entrypoint = []string{s.path}
	}
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: s.path[1:], Mode: 0o755, Size: int64(len(data)), ModTime: created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "hack/ociimage: " + s.path}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", b.arch
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = entrypoint
	cf.Config.Cmd = s.cmd
	cf.Config.Labels = s.labels
	cf.Config.User = "65532:65532"
	cf.Config.Env = nil
	return mutate.ConfigFile(img, cf)
}

// writeLayout writes an OCI image layout holding one index of the binaries' images, and returns the
// index's digest.
func writeLayout(dir, ref string, s spec, created time.Time, bins []binary) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range bins {
		img, err := image(b, s, created)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("image for %s: %w", b.arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: b.arch}}})
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}
