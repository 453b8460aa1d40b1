package secrets

import "testing"

func TestIsDockerHub(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		// What clients send (see DockerHubAliases).
		{"https://index.docker.io/v1/", true},
		{"index.docker.io", true},
		{"registry-1.docker.io", true},
		{"docker.io", true},
		{"https://index.docker.io/v1", true},
		{"https://registry-1.docker.io/v2/", true},
		{"HTTPS://Index.Docker.IO/v1/", true},
		{"http://index.docker.io/v1/", true},
		{"docker.io:443", true},
		{"https://docker.io/", true},
		{" docker.io ", true},
		// Not Docker Hub.
		{"index.docker.io.evil.example", false},
		{"evil.example/index.docker.io", false},
		{"evil.example/docker.io", false},
		{"https://evil.example/?x=index.docker.io", false},
		{"user@docker.io", false},
		{"docker.io:5000", false},
		{"docker.io/library/alpine", false},
		{"https://index.docker.io/v1/../evil", false},
		{"ghcr.io", false},
		{"hub.docker.com", false},
		{"xdocker.io", false},
		{"", false},
		{"https://", false},
	}
	for _, tt := range tests {
		if got := isDockerHub(tt.in); got != tt.want {
			t.Errorf("isDockerHub(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, a := range DockerHubAliases() {
		if !isDockerHub(a) {
			t.Errorf("alias %q is not recognised", a)
		}
		if CanonicalDomain(a) != DockerHub {
			t.Errorf("CanonicalDomain(%q) = %q", a, CanonicalDomain(a))
		}
	}
	if got := CanonicalDomain("ghcr.io"); got != "ghcr.io" {
		t.Errorf("CanonicalDomain(ghcr.io) = %q", got)
	}
	if got := CanonicalDomain("index.docker.io.evil.example"); got != "index.docker.io.evil.example" {
		t.Errorf("CanonicalDomain changed a lookalike: %q", got)
	}
}
