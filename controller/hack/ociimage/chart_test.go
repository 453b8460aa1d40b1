package main

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/release"
)

// The chart's node part runs the image this builder makes for -image node: values.yaml's
// node.image (its tag defaulting to v<appVersion>, as templates/_helpers.tpl says) is
// release.NodeImageRef, and node.binaryPath is where the image holds the binary.
func TestChartNamesTheNodeImage(t *testing.T) {
	const chart = "../../../deploy/helm/docker-credential-acr/"
	var values struct {
		Node struct {
			Image struct {
				Repository string `json:"repository"`
				Tag        string `json:"tag"`
			} `json:"image"`
			BinaryPath string `json:"binaryPath"`
		} `json:"node"`
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	for file, into := range map[string]any{"values.yaml": &values, "Chart.yaml": &meta} {
		data, err := os.ReadFile(chart + file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, into); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	tag := values.Node.Image.Tag
	if tag == "" {
		tag = "v" + meta.AppVersion
	}
	if got := values.Node.Image.Repository + ":" + tag; got != release.NodeImageRef {
		t.Errorf("the chart's node image is %q, the release builds %q", got, release.NodeImageRef)
	}
	if values.Node.BinaryPath != presets["node"].image.path {
		t.Errorf("node.binaryPath %q, the image holds the binary at %q", values.Node.BinaryPath, presets["node"].image.path)
	}
}
