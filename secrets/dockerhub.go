package secrets

import "strings"

// DockerHub is how an entry names Docker Hub in `domains`.
const DockerHub = "docker.io"

// DockerHubAliases are the names clients hand a credential helper for Docker Hub, the keys
// configure-docker writes into credHelpers:
//   - "https://index.docker.io/v1/": the docker CLI's IndexServer, used for every docker.io image;
//   - "index.docker.io": go-containerregistry's default registry (crane, ko, kaniko, buildkit's
//     resolver via the docker config);
//   - "registry-1.docker.io": the API host itself, sent by clients that resolve the endpoint first;
//   - "docker.io": podman, buildah, skopeo and nerdctl.
func DockerHubAliases() []string {
	return []string{"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", DockerHub}
}

var dockerHubHosts = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

// isDockerHub reports whether serverURL, as a client handed it to the helper, names Docker Hub:
// one of the DockerHubAliases, in any letter case, with an optional https:// (or http://)
// scheme, the port 443 and a path of "/", "/v1/" or "/v2/" (with or without the trailing slash).
// Anything else is not Docker Hub: "index.docker.io.evil.example", "evil.example/docker.io",
// "user@docker.io", "docker.io:5000" or "docker.io/library/alpine".
func isDockerHub(serverURL string) bool {
	s := strings.ToLower(strings.TrimSpace(serverURL))
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		s = rest
	} else if rest, ok := strings.CutPrefix(s, "http://"); ok {
		s = rest
	}
	host, path, _ := strings.Cut(s, "/")
	switch path {
	case "", "v1", "v1/", "v2", "v2/":
	default:
		return false
	}
	host = strings.TrimSuffix(host, ":443")
	return dockerHubHosts[host]
}

// CanonicalDomain is DockerHub for every Docker Hub alias and serverURL unchanged otherwise, so
// that a `domains: [docker.io]` entry, its cache key and its log lines name one registry whatever
// the client sent.
func CanonicalDomain(serverURL string) string {
	if isDockerHub(serverURL) {
		return DockerHub
	}
	return serverURL
}
