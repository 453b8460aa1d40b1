package dockerconfig

import (
	"errors"
	"fmt"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
)

// Docker Hub in docker's config: the docker CLI looks credHelpers up under its IndexServer URL
// for every docker.io image (the one key that is not host[:port]); other clients use the host
// names (go-containerregistry index.docker.io, podman and skopeo docker.io, clients that
// resolve the API host registry-1.docker.io).
const (
	dockerHubIndexServer = "https://index.docker.io/v1/"
	dockerHub            = "docker.io"
)

// dockerHubKeys are the credHelpers keys of Docker Hub, written together for docker.io.
var dockerHubKeys = []string{dockerHubIndexServer, "index.docker.io", "registry-1.docker.io", dockerHub}

// normalizeHost turns a registry given on the command line into the key docker looks up in
// credHelpers: a lower-case host[:port]. It strips an http:// or https:// scheme and trailing
// slashes, and lower-cases, saying so in note; it rejects anything else that is not host[:port] as
// acr.ParseHostPort says (the helper's one host grammar). The host is kept as written (port 443 too):
// it is the key docker looks up.
func normalizeHost(s string) (host, note string, err error) {
	orig := s
	if strings.EqualFold(strings.TrimSpace(s), dockerHubIndexServer) {
		return dockerHubIndexServer, "", nil
	}
	s = strings.TrimSpace(s)
	var notes []string
	if lower := strings.ToLower(s); lower != s {
		s = lower
		notes = append(notes, "lower-cased")
	}
	for _, scheme := range []string{"https://", "http://"} {
		if strings.HasPrefix(s, scheme) {
			s = s[len(scheme):]
			notes = append(notes, "dropped the scheme "+scheme)
			break
		}
	}
	if t := strings.TrimRight(s, "/"); t != s {
		s = t
		notes = append(notes, "dropped the trailing /")
	}
	if s == "" {
		return "", "", fmt.Errorf("%q is not a registry host: write it as registry.example.com or registry.example.com:5443", orig)
	}
	if strings.ContainsAny(s, "/?#@") || strings.Contains(s, "://") {
		return "", "", fmt.Errorf("%q is not a registry host: give only host[:port], without scheme, user, path or query (docker looks the helper up by host)", orig)
	}
	if _, err := acr.ParseHostPort(s); err != nil {
		var he *acr.HostError
		if errors.As(err, &he) {
			err = errors.New(he.Reason)
		}
		return "", "", fmt.Errorf("%q is not a registry host: %v", orig, err)
	}
	if len(notes) > 0 {
		note = fmt.Sprintf("%q: %s, using %s", orig, strings.Join(notes, ", "), s)
	}
	return s, note, nil
}
