// Package config reads the helper's configuration: the YAML (or JSON) file and the environment
// variables that override it. It knows nothing of registries or credentials beyond their names.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
	"gopkg.in/yaml.v3"
)

// Defaults.
const (
	DefaultExpiringThreshold = 15 * time.Minute
	DefaultTimeout           = 20 * time.Second
	DefaultExpireDuration    = 3600 // seconds of STS credentials from a role hop
	DefaultRoleSessionName   = "docker-credential-acr"
	maxFileSize              = 1 << 20
)

// Config is the helper's configuration after the file and the environment are applied.
type Config struct {
	Path                   string        // the file read, "" if none
	ExpiringThreshold      time.Duration // refresh a cached token this long before it expires
	Timeout                time.Duration // deadline of one command
	Strict                 bool          // report token failures as errors instead of "not found"
	VPC                    bool          // use the -vpc API endpoints
	ECSMetadata            bool          // use the ECS metadata service even where DMI does not name Alibaba Cloud
	PersonalInstanceTokens bool          // try GetAuthorizationToken for crpi- Personal instances
	NoCache                bool
	Endpoints              Endpoints
	Registries             []Registry
	Cluster                Cluster // the add-on's cluster keys, for the controller (cluster.go)
}

// Endpoints override the API endpoints: "host[:port]", may hold "{region}".
type Endpoints struct {
	CR  string
	STS string
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
	// Base credentials from AssumeRoleWithOIDC (RRSA) instead of the default chain.
	RRSARoleARN         string
	RRSAOIDCProviderARN string
	OIDCTokenFile       string
	index               int
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
	for i := range c.Registries {
		if len(c.Registries[i].Domains) == 0 && c.Registries[i].InstanceID == "" {
			return &c.Registries[i]
		}
	}
	return nil
}

// Domains lists the domains named by the registries entries, for configure-docker.
func (c *Config) Domains() []string {
	var out []string
	for _, r := range c.Registries {
		out = append(out, r.Domains...)
	}
	return out
}

// Environment variables.
const (
	EnvConfig      = "DOCKER_CREDENTIAL_ACR_CONFIG"
	EnvStrict      = "DOCKER_CREDENTIAL_ACR_STRICT"
	EnvTimeout     = "DOCKER_CREDENTIAL_ACR_TIMEOUT"
	EnvNoCache     = "DOCKER_CREDENTIAL_ACR_NO_CACHE"
	EnvCREndpoint  = "DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"
	EnvSTSEndpoint = "ALIBABA_CLOUD_STS_ENDPOINT"
	EnvVPC         = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"
)

// Load reads the configuration file ($DOCKER_CREDENTIAL_ACR_CONFIG, else the first
// docker-credential-acr/config.yaml in the XDG config dirs) and applies the environment.
// A missing file is no error; a broken one is.
func Load() (*Config, error) {
	path, explicit := os.Getenv(EnvConfig), true
	if path == "" {
		explicit = false
		path = findConfigFile()
	}
	c := &Config{ExpiringThreshold: DefaultExpiringThreshold, Timeout: DefaultTimeout}
	if path != "" {
		data, err := readFile(path)
		switch {
		case err == nil:
			if err := c.parse(path, data); err != nil {
				return nil, err
			}
		case errors.Is(err, os.ErrNotExist) && !explicit:
		default:
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	return c, c.applyEnv()
}

func findConfigFile() string {
	const rel = "docker-credential-acr/config.yaml"
	home := os.Getenv("XDG_CONFIG_HOME")
	if home == "" {
		home = xdg.ConfigHome
	}
	dirs := []string{home}
	if env := os.Getenv("XDG_CONFIG_DIRS"); env != "" {
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

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes: this is not a helper configuration", maxFileSize)
	}
	return data, nil
}

func (c *Config) applyEnv() error {
	if v := os.Getenv(EnvStrict); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %v", EnvStrict, v, err)
		}
		c.Strict = b
	}
	if v := os.Getenv(EnvNoCache); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %v", EnvNoCache, v, err)
		}
		c.NoCache = b
	}
	if v := os.Getenv(EnvVPC); strings.EqualFold(strings.TrimSpace(v), "true") {
		c.VPC = true
	}
	if v := os.Getenv(EnvTimeout); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			return fmt.Errorf("%s=%q: want a duration such as 20s (at most 10m)", EnvTimeout, v)
		}
		c.Timeout = d
	}
	if v := strings.TrimSpace(os.Getenv(EnvCREndpoint)); v != "" {
		c.Endpoints.CR = v
	}
	if v := strings.TrimSpace(os.Getenv(EnvSTSEndpoint)); v != "" {
		c.Endpoints.STS = v
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, errors.New("want true or false")
}

// parseDuration accepts Go durations ("15m", "90s") and plain seconds ("900").
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// fileError is a problem in the file, said with the file, the key and the fix.
func fileError(path string, n *yaml.Node, key, problem string) error {
	where := path
	if n != nil && n.Line > 0 {
		where = fmt.Sprintf("%s:%d", path, n.Line)
	}
	if key != "" {
		return fmt.Errorf("config file %s: %s: %s", where, key, problem)
	}
	return fmt.Errorf("config file %s: %s", where, problem)
}

type field struct {
	names []string // lower-case accepted spellings
	set   func(path string, key string, v *yaml.Node) error
}

func lookupField(fields []field, key string) (*field, bool) {
	k := strings.ToLower(key)
	for i := range fields {
		for _, n := range fields[i].names {
			if n == k {
				return &fields[i], true
			}
		}
	}
	return nil, false
}

func knownNames(fields []field) string {
	var names []string
	for _, f := range fields {
		names = append(names, f.names[0])
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (c *Config) parse(path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fileError(path, nil, "", "not valid YAML ("+err.Error()+"): fix the syntax; JSON is valid YAML too")
	}
	c.Path = path
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fileError(path, root, "", "the top level must be a mapping with keys such as registries and expiringThreshold")
	}
	top := []field{
		{[]string{"expiringthreshold"}, func(p, k string, v *yaml.Node) error {
			d, err := durationNode(p, k, v)
			if err == nil && (d < 0 || d > 12*time.Hour) {
				err = fileError(p, v, k, "must be between 0s and 12h, such as 15m")
			}
			c.ExpiringThreshold = d
			return err
		}},
		{[]string{"timeout"}, func(p, k string, v *yaml.Node) error {
			d, err := durationNode(p, k, v)
			if err == nil && (d <= 0 || d > 10*time.Minute) {
				err = fileError(p, v, k, "must be between 1s and 10m, such as 20s")
			}
			c.Timeout = d
			return err
		}},
		{[]string{"strict"}, boolSetter(&c.Strict)},
		{[]string{"vpc"}, boolSetter(&c.VPC)},
		{[]string{"ecsmetadata"}, boolSetter(&c.ECSMetadata)},
		{[]string{"personalinstancetokens"}, boolSetter(&c.PersonalInstanceTokens)},
		{[]string{"endpoints"}, func(p, k string, v *yaml.Node) error {
			return mapping(p, k, v, []field{
				{[]string{"cr"}, stringSetter(&c.Endpoints.CR)},
				{[]string{"sts"}, stringSetter(&c.Endpoints.STS)},
			})
		}},
		{[]string{"registries", "instances"}, func(p, k string, v *yaml.Node) error {
			if v.Kind != yaml.SequenceNode {
				return fileError(p, v, k, "must be a list of entries, each starting with '- '")
			}
			for i, item := range v.Content {
				r := Registry{index: i}
				if err := mapping(p, fmt.Sprintf("%s[%d]", k, i), item, r.fields()); err != nil {
					return err
				}
				if err := r.validate(p, fmt.Sprintf("%s[%d]", k, i), item); err != nil {
					return err
				}
				c.Registries = append(c.Registries, r)
			}
			return nil
		}},
	}
	return mapping(path, "", root, append(top, c.Cluster.fields()...))
}

func (r *Registry) fields() []field {
	return []field{
		{[]string{"domains"}, func(p, k string, v *yaml.Node) error {
			switch v.Kind {
			case yaml.ScalarNode: // ACK add-on style: comma-separated
				for _, d := range strings.Split(v.Value, ",") {
					if d = strings.TrimSpace(d); d != "" {
						r.Domains = append(r.Domains, strings.ToLower(d))
					}
				}
			case yaml.SequenceNode:
				for _, item := range v.Content {
					if item.Kind != yaml.ScalarNode {
						return fileError(p, item, k, "each domain must be a host name such as registry.example.com")
					}
					r.Domains = append(r.Domains, strings.ToLower(strings.TrimSpace(item.Value)))
				}
			default:
				return fileError(p, v, k, "must be a list of host names (or a comma-separated string)")
			}
			for _, d := range r.Domains {
				if !validDomain(d) {
					return fileError(p, v, k, fmt.Sprintf("%q is not a host name: write it as registry.example.com or registry.example.com:5443, without scheme or path", d))
				}
			}
			return nil
		}},
		{[]string{"instanceid"}, stringSetter(&r.InstanceID)},
		{[]string{"regionid"}, stringSetter(&r.RegionID)},
		{[]string{"arnservice"}, stringSetter(&r.ArnService)},
		{[]string{"arnuser", "assumerolearn"}, stringSetter(&r.ArnUser)},
		{[]string{"externalid"}, stringSetter(&r.ExternalID)},
		{[]string{"expireduration"}, func(p, k string, v *yaml.Node) error {
			d, err := durationNode(p, k, v)
			r.ExpireDuration = int(d / time.Second)
			return err
		}},
		{[]string{"rolesessionname"}, stringSetter(&r.RoleSessionName)},
		{[]string{"rrsarolearn"}, stringSetter(&r.RRSARoleARN)},
		{[]string{"rrsaoidcproviderrolearn", "oidcproviderarn"}, stringSetter(&r.RRSAOIDCProviderARN)},
		{[]string{"oidctokenfile"}, stringSetter(&r.OIDCTokenFile)},
	}
}

func (r *Registry) validate(p, k string, n *yaml.Node) error {
	if r.InstanceID != "" && !(strings.HasPrefix(r.InstanceID, "cri-") || strings.HasPrefix(r.InstanceID, "crpi-")) {
		return fileError(p, n, k+".instanceId", fmt.Sprintf("%q is not an ACR instance id: Enterprise ids look like cri-xxxxxxxxxxxxxxxx (see the console's instance overview)", r.InstanceID))
	}
	if r.InstanceID != "" {
		r.InstanceID = strings.ToLower(r.InstanceID)
	}
	if r.RegionID != "" && !validRegion(r.RegionID) {
		return fileError(p, n, k+".regionId", fmt.Sprintf("%q is not a region id such as cn-hangzhou", r.RegionID))
	}
	for name, arn := range map[string]string{"arnService": r.ArnService, "arnUser": r.ArnUser, "rrsaRoleARN": r.RRSARoleARN} {
		if arn != "" && !strings.HasPrefix(arn, "acs:ram::") {
			return fileError(p, n, k+"."+name, fmt.Sprintf("%q is not a RAM role ARN: write acs:ram::<account-id>:role/<role-name>", arn))
		}
	}
	if r.RRSAOIDCProviderARN != "" && !strings.HasPrefix(r.RRSAOIDCProviderARN, "acs:ram::") {
		return fileError(p, n, k+".oidcProviderArn", fmt.Sprintf("%q is not an OIDC provider ARN: write acs:ram::<account-id>:oidc-provider/<name>", r.RRSAOIDCProviderARN))
	}
	if (r.RRSARoleARN == "") != (r.RRSAOIDCProviderARN == "") {
		return fileError(p, n, k, "rrsaRoleARN and rrsaOIDCProviderRoleARN go together: set both, or neither")
	}
	if r.ExternalID != "" && r.ArnService == "" && r.ArnUser == "" {
		return fileError(p, n, k+".externalId", "is set but no role is: add arnUser (and arnService for two hops), or remove externalId")
	}
	if r.ExpireDuration != 0 && (r.ExpireDuration < 900 || r.ExpireDuration > 43200) {
		return fileError(p, n, k+".expireDuration", fmt.Sprintf("%d is outside 900..43200 seconds", r.ExpireDuration))
	}
	if r.ExpireDuration == 0 {
		r.ExpireDuration = DefaultExpireDuration
	}
	if r.RoleSessionName == "" {
		r.RoleSessionName = DefaultRoleSessionName
	}
	return nil
}

func validRegion(s string) bool {
	if len(s) < 2 || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	host, port := d, ""
	if i := strings.LastIndexByte(d, ':'); i >= 0 {
		host, port = d[:i], d[i+1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func mapping(path, prefix string, n *yaml.Node, fields []field) error {
	if n.Kind != yaml.MappingNode {
		return fileError(path, n, prefix, "must be a mapping of keys to values")
	}
	seen := map[*field]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		full := key
		if prefix != "" {
			full = prefix + "." + key
		}
		f, ok := lookupField(fields, key)
		if !ok {
			return fileError(path, kn, full, "unknown key: the keys here are "+knownNames(fields)+" (names are case-insensitive)")
		}
		if prev, dup := seen[f]; dup {
			return fileError(path, kn, full, "given twice (also as "+prev+"): keep one")
		}
		seen[f] = key
		if vn.Kind == yaml.AliasNode {
			vn = vn.Alias
		}
		if err := f.set(path, full, vn); err != nil {
			return err
		}
	}
	return nil
}

func stringSetter(dst *string) func(string, string, *yaml.Node) error {
	return func(p, k string, v *yaml.Node) error {
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return fileError(p, v, k, "must be a single value")
		}
		*dst = strings.TrimSpace(v.Value)
		return nil
	}
}

func boolSetter(dst *bool) func(string, string, *yaml.Node) error {
	return func(p, k string, v *yaml.Node) error {
		if v.Kind != yaml.ScalarNode {
			return fileError(p, v, k, "must be true or false")
		}
		b, err := parseBool(v.Value)
		if err != nil || v.Value == "" {
			return fileError(p, v, k, fmt.Sprintf("%q: must be true or false", v.Value))
		}
		*dst = b
		return nil
	}
}

func durationNode(p, k string, v *yaml.Node) (time.Duration, error) {
	if v.Kind != yaml.ScalarNode {
		return 0, fileError(p, v, k, "must be a duration such as 15m or a number of seconds")
	}
	d, err := parseDuration(v.Value)
	if err != nil {
		return 0, fileError(p, v, k, fmt.Sprintf("%q: must be a duration such as 15m or a number of seconds", v.Value))
	}
	return d, nil
}
