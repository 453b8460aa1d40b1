// Package release names what the release ships: the image the Deployment manifest runs, built by
// hack/ociimage.
package release

// ImageRef is the controller image's reference, as deploy/deployment.yaml names it and as the OCI
// layout built by hack/ociimage records it (org.opencontainers.image.ref.name).
const ImageRef = "registry.cn-hangzhou.aliyuncs.com/docker-credential-acr/acr-credential-controller:v0.1.0"
