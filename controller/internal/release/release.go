// Package release names what the release ships: the images the manifests and the chart run, built
// by hack/ociimage.
package release

// ImageRef is the controller image's reference, as deploy/deployment.yaml names it and as the OCI
// layout built by hack/ociimage records it (org.opencontainers.image.ref.name).
const ImageRef = "registry.cn-hangzhou.aliyuncs.com/docker-credential-acr/acr-credential-controller:v0.1.0"

// NodeImageRef is the node image's reference (the static docker-credential-acr binary alone, for
// the chart's node part), as the chart's values.yaml names it (node.image) and as the OCI layout
// built by `hack/ociimage -image node` records it.
const NodeImageRef = "registry.cn-hangzhou.aliyuncs.com/docker-credential-acr/docker-credential-acr:v0.1.0"

// Source is the repository the images are built from (org.opencontainers.image.source).
const Source = "https://github.com/docker-credential-acr/docker-credential-acr"
