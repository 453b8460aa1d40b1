// Package config is the one reader of the helper's settings: the YAML (or JSON) file and the
// environment variables that override it, read through a lookup the caller passes (os.Getenv in
// main, a map in tests). It knows nothing of registries or credentials beyond their names.
package config

import (
	"github.com/docker-credential-acr/docker-credential-acr/internal/regularfile"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adrg/xdg"

	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// Defaults.
const (
	defaultExpiringThreshold = 15 * time.Minute
	defaultTimeout           = 20 * time.Second
	defaultExpireDuration    = 3600 // seconds of STS credentials from a role hop
	DefaultRoleSessionName   = "docker-credential-acr"
	maxFileSize              = 1 << 20
)

// Config is the helper's configuration after the file and the environment are applied.
type Config struct {
	Path              string        // the file read, "" if none
	ExpiringThreshold time.Duration // refresh a cached token this long before it expires
	Timeout           time.Duration // deadline of one command
	Strict            bool          // report token failures as errors instead of "not found"
	VPC               bool          // `vpc:` of the file: cr-vpc / kms-vpc / sts-vpc endpoints (see APIVPC, STSVPC)
	// STSVPCEnv is ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true: the STS VPC endpoint only, as every
	// Alibaba Cloud credentials SDK reads it (ACK's pod-identity webhook sets it in every pod).
	STSVPCEnv              bool
	ECSMetadata            bool // use the ECS metadata service even where DMI does not name Alibaba Cloud
	PersonalInstanceTokens bool // try GetAuthorizationToken for crpi- Personal instances
	NoCache                bool // DOCKER_CREDENTIAL_ACR_NO_CACHE: no token cache at all
	Endpoints              Endpoints
	Registries             []Registry
	Cluster                Cluster // the add-on's cluster keys, for the controller (cluster.go)

	// CacheDir is the token cache directory and DataDir the directory of the `docker login`
	// store; "" when it cannot be worked out, with the reason in Warnings.
	CacheDir string
	DataDir  string
	// LogLevel is DOCKER_CREDENTIAL_ACR_LOG_LEVEL as given ("" is the default, warn).
	LogLevel string
	// Warnings are settings that are wrong but not fatal: the command goes on without the part
	// they affect (the cache, the login store), and says so.
	Warnings []string

	// Getenv is the lookup the configuration was read with; the credential chain reads its
	// variables (ALIBABA_CLOUD_*) through it. Nil reads the process environment.
	Getenv func(string) string
}

// Env looks up a variable of the environment the configuration was read with.
func (c *Config) Env(name string) string {
	if c.Getenv == nil {
		return os.Getenv(name)
	}
	return c.Getenv(name)
}

// Endpoints override the API endpoints: "host[:port]", may hold "{region}".
type Endpoints struct {
	CR  string
	STS string
	KMS string
	// KMSCA is endpoints.kmsCAFile: the only CA trusted at the KMS override (an instance gateway).
	KMSCA *CAFile
}

// Registry is one entry of `registries`: which hosts it applies to and how to get credentials.
type Registry struct {
	Domains         []string
	InstanceID      string
	RegionID        string
	ArnService      string
	ArnUser         string
	ExternalID      string
	ExpireDuration  int // seconds
	RoleSessionName string
	// VPC is the entry's `vpc:` (nil when unset): its cr, KMS and STS calls on the VPC endpoints
	// of their regions, or not, whatever the global vpc says.
	VPC *bool
	// Profile names the base credentials of the entry: the Alibaba Cloud CLI profile of that name,
	// else the credentials file's section, instead of the default chain.
	Profile string
	// Base credentials from AssumeRoleWithOIDC (RRSA) instead of the default chain.
	RRSARoleARN         string
	RRSAOIDCProviderARN string
	OIDCTokenFile       string
	// CustomAccessKey and CustomAccessKeySecret are the ACK add-on's per-entry AccessKey pair
	// (base credentials instead of the default chain). Accepted for the add-on's configurations,
	// with a warning: an AccessKey in a ConfigMap is readable by whoever reads the ConfigMap.
	CustomAccessKey       string
	CustomAccessKeySecret string
	// Secret, when set, is where the entry's login comes from (KMS Secrets Manager) instead of
	// an ACR token; see secret.go.
	Secret *Secret
	secret secretSettings
	index  int
	file   string // the config file, and the entry's line in it (0 if not from a file)
	line   int
}

// Where is the entry's place in the config file, "path:line", for messages ("" if unknown).
func (r *Registry) Where() string {
	if r.file == "" || r.line == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", r.file, r.line)
}

// Describe names the entry for messages: "registries[2] (registry.example.com)".
func (r *Registry) Describe() string {
	s := fmt.Sprintf("registries[%d]", r.index)
	switch {
	case len(r.Domains) > 0:
		s += " (" + strings.Join(r.Domains, ", ") + ")"
	case r.InstanceID != "":
		s += " (" + r.InstanceID + ")"
	}
	return s
}

// Match returns the entry that applies to a host: the first entry whose domains name it
// (matchDomain decides), else the first entry with instanceId equal to instanceID, else the first
// entry with neither domains nor instanceId. Nil if none applies.
func (c *Config) Match(matchDomain func(domain string) bool, instanceID string) *Registry {
	for i := range c.Registries {
		for _, d := range c.Registries[i].Domains {
			if matchDomain(d) {
				return &c.Registries[i]
			}
		}
	}
	if instanceID != "" {
		for i := range c.Registries {
			if len(c.Registries[i].Domains) == 0 && strings.EqualFold(c.Registries[i].InstanceID, instanceID) {
				return &c.Registries[i]
			}
		}
	}
	return c.catchAll()
}

// MatchPersonal finds the entry for a Personal Edition (classic) host of region: one listing it in
// domains, else the region's Personal Edition entry (regionId alone, the ACK add-on's form), else
// the catch-all entry.
func (c *Config) MatchPersonal(matchDomain func(domain string) bool, region string) *Registry {
	for i := range c.Registries {
		for _, d := range c.Registries[i].Domains {
			if matchDomain(d) {
				return &c.Registries[i]
			}
		}
	}
	for i := range c.Registries {
		if r := &c.Registries[i]; region != "" && r.PersonalRegion() == region {
			return r
		}
	}
	return c.catchAll()
}

// catchAll is the entry with neither domains, instanceId nor regionId: it applies to every ACR
// host that no other entry names.
func (c *Config) catchAll() *Registry {
	for i := range c.Registries {
		if r := &c.Registries[i]; len(r.Domains) == 0 && r.InstanceID == "" && r.RegionID == "" {
			return r
		}
	}
	return nil
}

// PersonalRegion is the region of a Personal Edition entry (regionId with neither domains nor
// instanceId: the ACK add-on's form for Personal Edition), "" for any other entry.
func (r *Registry) PersonalRegion() string {
	if len(r.Domains) == 0 && r.InstanceID == "" && r.Secret == nil {
		return r.RegionID
	}
	return ""
}

// Domains lists the domains named by the registries entries, for configure-docker: docker.io
// as every name clients give Docker Hub (secrets.DockerHubAliases).
func (c *Config) Domains() []string {
	var out []string
	for _, r := range c.Registries {
		for _, d := range r.Domains {
			if d == secrets.DockerHub {
				out = append(out, secrets.DockerHubAliases()...)
				continue
			}
			out = append(out, d)
		}
	}
	return out
}

// Load reads the configuration file ($DOCKER_CREDENTIAL_ACR_CONFIG, else the first
// docker-credential-acr/config.yaml in the XDG config dirs) and applies the environment, both
// looked up with getenv (os.Getenv-compatible). A missing file is no error; a broken one is.
func Load(getenv func(string) string) (*Config, error) {
	if path := getenv(EnvConfig); path != "" {
		return LoadFile(path, getenv)
	}
	c := newConfig(getenv)
	if path := findConfigFile(getenv); path != "" {
		data, err := readFile(path)
		switch {
		case err == nil:
			if err := c.parse(path, data); err != nil {
				return nil, err
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	return c, c.applyEnv(getenv)
}

// LoadFile reads the configuration file at path, which must exist, and applies the environment
// looked up with getenv.
func LoadFile(path string, getenv func(string) string) (*Config, error) {
	c := newConfig(getenv)
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if err := c.parse(path, data); err != nil {
		return nil, err
	}
	return c, c.applyEnv(getenv)
}

func newConfig(getenv func(string) string) *Config {
	return &Config{ExpiringThreshold: defaultExpiringThreshold, Timeout: defaultTimeout, Getenv: getenv}
}

// configRel is the config file's path under an XDG config directory.
const configRel = "docker-credential-acr/config.yaml"

// DefaultPath is the file the helper reads its settings from when DOCKER_CREDENTIAL_ACR_CONFIG
// is unset and no XDG config dir holds one yet: the one to create ($XDG_CONFIG_HOME, default
// ~/.config, then docker-credential-acr/config.yaml).
func DefaultPath(getenv func(string) string) string {
	return filepath.Join(configHome(getenv), configRel)
}

func configHome(getenv func(string) string) string {
	if getenv != nil {
		if home := getenv("XDG_CONFIG_HOME"); home != "" {
			return home
		}
	}
	return xdg.ConfigHome
}

func findConfigFile(getenv func(string) string) string {
	const rel = configRel
	dirs := []string{configHome(getenv)}
	if env := getenv("XDG_CONFIG_DIRS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	} else {
		dirs = append(dirs, xdg.ConfigDirs...)
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// readFile reads the helper's config file: a regular file (a symlink to one is fine) of at most
// maxFileSize bytes. Anything else (a FIFO, a device, a socket, a directory) is refused at once
// (internal/regularfile), so that a named pipe can never hang the command past its deadline, and
// /dev/zero can never be read forever.
func readFile(path string) ([]byte, error) {
	data, err := regularfile.Read(path, maxFileSize)
	var re *regularfile.Error
	switch {
	case errors.As(err, &re) && errors.Is(err, regularfile.ErrNotRegular):
		return nil, fmt.Errorf("is %s, not a regular file: the helper reads its settings only from a regular file (point %s at one, or remove it)", re.Kind, EnvConfig)
	case errors.As(err, &re):
		return nil, fmt.Errorf("is larger than %d bytes: this is not a helper configuration", maxFileSize)
	}
	return data, err
}

// APIVPC says whether the cr (Enterprise) and KMS calls of entry e (nil: no entry) go to the VPC
// endpoints of their region (cr-vpc.<region>, kms-vpc.<region>): the entry's vpc when set, else
// the global vpc. ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED does not count: it is an STS setting, and VPC
// endpoints answer only inside their own region's VPC. The caller adds the registry host's own
// word (a -vpc host means the client is inside that region's VPC).
func (c *Config) APIVPC(e *Registry) (vpc, set bool) {
	if e != nil && e.VPC != nil {
		return *e.VPC, true
	}
	return c.VPC, c.VPC
}

// STSVPC says whether entry e's STS calls (role hops, OIDC) go to the STS VPC endpoint:
// ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true, as the credentials SDKs read it, or the vpc of the
// entry (else the global one).
func (c *Config) STSVPC(e *Registry) bool {
	vpc, _ := c.APIVPC(e)
	return c.STSVPCEnv || vpc
}
