package credhelper

// Doctor's advice for a host the helper does not serve yet: the config entry that fits the kind
// of registry, as YAML to paste, and the config file to paste it into.

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// Kinds of host doctor tells apart for its advice.
const (
	kindDockerHub    = "docker-hub"
	kindGHCR         = "ghcr"
	kindCustomDomain = "acr-custom-domain" // the registry's challenge names an Enterprise instance
	kindUnknown      = "custom-domain-or-other-registry"
	kindOther        = "other-registry"
)

// entryAdvice is the entry proposed for a host: one YAML document per way to serve it.
type entryAdvice struct {
	Kind string `json:"kind"`
	// File is the config file to add it to: the one read, else the one the helper would read.
	File       string   `json:"file"`
	FileExists bool     `json:"fileExists"`
	Text       string   `json:"advice"`
	YAML       []string `json:"yaml"`
}

// dockerHubNames are the names clients give Docker Hub (config's docker.io stands for them all).
var dockerHubNames = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true, "registry.hub.docker.com": true}

// hostKind is what doctor can tell of a host that is not an ACR host name: Docker Hub, GHCR, or,
// from its challenge when doctor --online read one, an ACR custom domain or another registry.
func hostKind(reg acr.Registry, ch *challengeRead) string {
	switch {
	case dockerHubNames[reg.Hostname] || dockerHubImage(reg):
		return kindDockerHub
	case reg.Hostname == "ghcr.io":
		return kindGHCR
	case ch == nil || ch.unreachable:
		return kindUnknown
	case ch.instanceID != "":
		return kindCustomDomain
	}
	return kindOther
}

// dockerHubImage reports whether reg is an image name without a registry (nginx, library/nginx
// pasted as a host): docker's rule puts it on Docker Hub, since a registry host has a dot or a
// port, or is localhost.
func dockerHubImage(reg acr.Registry) bool {
	return reg.Port == "" && reg.Hostname != "localhost" && !strings.ContainsAny(reg.Hostname, ".:")
}

// adviseEntry proposes the entry that serves reg (not an ACR host name, listed by no entry).
func adviseEntry(cfg *config.Config, reg acr.Registry, ch *challengeRead) *entryAdvice {
	a := &entryAdvice{Kind: hostKind(reg, ch), File: cfg.Path, FileExists: cfg.Path != ""}
	if a.File == "" {
		a.File = config.DefaultPath(cfg.Getenv)
		if _, err := os.Stat(a.File); err == nil {
			a.FileExists = true
		}
	}
	secretEntry := func(domain, name, value string) string {
		return "registries:\n" +
			"  - domains: [" + domain + "]\n" +
			fmt.Sprintf("    %-32s # a KMS secret (name or ARN) whose value is %s\n", "secret: "+name, value) +
			fmt.Sprintf("    %-32s # the secret's region (not needed with an ARN)\n", "regionId: cn-hangzhou")
	}
	login := `{"username": "…", "password": "…"}`
	switch a.Kind {
	case kindDockerHub:
		a.Text = "keep the Docker Hub login in a KMS Secrets Manager secret and add this entry to the config file (docker.io stands for every name clients give Docker Hub), then run `docker-credential-acr configure-docker`"
		a.YAML = []string{secretEntry("docker.io", "dockerhub-pull", `{"username": "…", "password": "<a Docker Hub access token>"}`)}
	case kindGHCR:
		a.Text = "keep the GHCR login in a KMS Secrets Manager secret and add this entry to the config file, then run `docker-credential-acr configure-docker`"
		a.YAML = []string{secretEntry("ghcr.io", "ghcr-pull", `{"username": "…", "password": "<a token with read:packages>"}`)}
	case kindCustomDomain:
		a.Text = "its challenge names the Enterprise instance " + ch.instanceID + " in " + ch.region + ": add this entry to the config file to serve it as that instance's custom domain"
		a.YAML = []string{"registries:\n" +
			"  - domains: [" + reg.Host + "]\n" +
			"    instanceId: " + ch.instanceID + "\n" +
			"    regionId: " + ch.region + "\n"}
	case kindOther:
		a.Text = "its challenge is not ACR's: keep its login in a KMS Secrets Manager secret and add this entry to the config file, then run `docker-credential-acr configure-docker`"
		a.YAML = []string{secretEntry(reg.Host, secretName(reg.Hostname), login)}
	default:
		a.Text = "if it is a custom domain of an ACR Enterprise instance, add entry 1 to the config file (the instance's id and region are in the ACR console; `doctor --online` reads them from the registry's challenge); if it is another registry, keep its login in a KMS Secrets Manager secret and add entry 2, then run `docker-credential-acr configure-docker`"
		a.YAML = []string{
			"registries:\n" +
				"  - domains: [" + reg.Host + "]\n" +
				fmt.Sprintf("    %-32s # the Enterprise instance that serves it\n", "instanceId: cri-xxxxxxxxxxxxxxxx") +
				fmt.Sprintf("    %-32s # the instance's region\n", "regionId: cn-hangzhou"),
			secretEntry(reg.Host, secretName(reg.Hostname), login),
		}
	}
	return a
}

// secretName is a secret name to propose for host: its labels joined by "-", then "-pull".
func secretName(host string) string {
	return strings.NewReplacer(".", "-", ":", "-", "[", "", "]", "").Replace(host) + "-pull"
}

// print writes the advice under a report: what to do, then each entry indented to be pasted
// into the config file (the report's "config file" line names it).
func (a *entryAdvice) print(w io.Writer) {
	fmt.Fprintf(w, "  to serve it:       %s\n", a.Text)
	for i, y := range a.YAML {
		if len(a.YAML) > 1 {
			fmt.Fprintf(w, "  entry %d:\n", i+1)
		}
		for _, l := range strings.Split(strings.TrimRight(y, "\n"), "\n") {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}

// configFileLine is the report's "config file" line: the file read, else the one the helper
// would read, saying it does not exist.
func configFileLine(cfg *config.Config) string {
	if cfg.Path != "" {
		return cfg.Path
	}
	p := config.DefaultPath(cfg.Getenv)
	return "none: " + p + " does not exist (create it to add entries; " + config.EnvConfig + " names another file)"
}
