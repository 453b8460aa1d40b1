package sts

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/docker-credential-acr/docker-credential-acr/internal/trustedpath"
)

// Named profiles: a profile of the Alibaba Cloud CLI config (ALIBABA_CLOUD_CONFIG_FILE or
// ~/.aliyun/config.json) or a section of the credentials file (ALIBABA_CLOUD_CREDENTIALS_FILE or
// ~/.alibabacloud/credentials), in every mode credentials-go v1.4.14 reads. The helper reads both
// files itself (regular files only, bounded) and performs the modes that call Alibaba Cloud with
// its own clients, so that their STS calls use the helper's endpoint, retry and timeouts, and the
// ECS metadata service is reached directly. An External profile's command is run by the helper
// (external.go), and only from a file no other user could have written (trustedpath). The modes
// that need the CLI's own browser logins and write refreshed tokens back to the file (CloudSSO,
// OAuth) are refused with what to use instead: no profile is ever handed to credentials-go, which
// prints what it reads and rewrites the user's CLI config.

// cliConfigPath and credentialsFilePath are where credentials-go looks.
func (o ChainOptions) cliConfigPath() string {
	if p := o.env("ALIBABA_CLOUD_CONFIG_FILE"); p != "" {
		return p
	}
	if home := o.homeDir(); home != "" {
		return filepath.Join(home, ".aliyun", "config.json")
	}
	return ""
}

func (o ChainOptions) credentialsFilePath() string {
	if p := o.env("ALIBABA_CLOUD_CREDENTIALS_FILE"); p != "" {
		return p
	}
	if home := o.homeDir(); home != "" {
		return filepath.Join(home, ".alibabacloud", "credentials")
	}
	return ""
}

// ProfileNotFoundError says that a profile named in the helper's config exists in neither file,
// and which profiles do.
type ProfileNotFoundError struct {
	Name                 string
	CLIConfig            string   // the CLI config's path
	CLIProfiles          []string // its profiles; nil if it is absent
	CredentialsFile      string
	CredentialsFileNames []string // its sections; nil if it is absent
}

func (e *ProfileNotFoundError) Error() string {
	list := func(path string, names []string) string {
		if names == nil {
			return path + " (absent)"
		}
		if len(names) == 0 {
			return path + " (no profiles)"
		}
		return path + " (profiles: " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("profile %q is neither in the Alibaba Cloud CLI config %s nor in the credentials file %s",
		e.Name, list(e.CLIConfig, e.CLIProfiles), list(e.CredentialsFile, e.CredentialsFileNames))
}

// NewProfileChain is the chain of one named profile: the CLI config's profile name, else the
// credentials file's section name. A profile in neither is a *ProfileNotFoundError; a file that is
// present but unreadable or broken is an error naming it.
func NewProfileChain(o ChainOptions, name string) (*Chain, error) {
	cliPath, iniPath := o.cliConfigPath(), o.credentialsFilePath()
	nf := &ProfileNotFoundError{Name: name, CLIConfig: cliPath, CredentialsFile: iniPath}
	if !strings.EqualFold(o.env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"), "true") {
		data, err := readSmall(cliPath)
		switch {
		case err == nil:
			conf, err := parseCLIConfig(cliPath, data)
			if err != nil {
				return nil, err
			}
			if s, ok, err := conf.source(o, name, 0); ok || err != nil {
				return &Chain{sources: []source{s}}, err
			}
			nf.CLIProfiles = conf.names()
		case present(cliPath):
			return nil, fmt.Errorf("cannot read the Alibaba Cloud CLI config: %v", err)
		}
	}
	data, err := readSmall(iniPath)
	switch {
	case err == nil:
		f, err := parseCredentialsFile(iniPath, data)
		if err != nil {
			return nil, err
		}
		if s, ok, err := f.source(o, name); ok || err != nil {
			return &Chain{sources: []source{s}}, err
		}
		nf.CredentialsFileNames = f.names()
	case present(iniPath):
		return nil, fmt.Errorf("cannot read the credentials file: %v", err)
	}
	return nil, nf
}

// cliConfig is the Alibaba Cloud CLI config: the current profile and the profiles, each kept raw
// for its digest (editing a profile changes the identity).
type cliConfig struct {
	path     string
	current  string
	profiles map[string]json.RawMessage
	order    []string
}

func parseCLIConfig(path string, data []byte) (*cliConfig, error) {
	var doc struct {
		Current  string            `json:"current"`
		Profiles []json.RawMessage `json:"profiles"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the Alibaba Cloud CLI config %s is not valid JSON: fix it (aliyun configure), or set ALIBABA_CLOUD_CONFIG_FILE to another file", path)
	}
	c := &cliConfig{path: path, current: doc.Current, profiles: map[string]json.RawMessage{}}
	for _, raw := range doc.Profiles {
		var p struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &p) == nil && p.Name != "" {
			if _, dup := c.profiles[p.Name]; !dup {
				c.order = append(c.order, p.Name)
			}
			c.profiles[p.Name] = raw
		}
	}
	return c, nil
}

func (c *cliConfig) names() []string { return append([]string{}, c.order...) }

// cliProfileDoc holds the fields of a CLI profile that the helper performs itself.
type cliProfileDoc struct {
	Mode            string `json:"mode"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	SecurityToken   string `json:"sts_token"`
	RoleArn         string `json:"ram_role_arn"`
	RoleSessionName string `json:"ram_session_name"`
	DurationSeconds int    `json:"expired_seconds"`
	SourceProfile   string `json:"source_profile"`
	RoleName        string `json:"ram_role_name"`
	OIDCTokenFile   string `json:"oidc_token_file"`
	OIDCToken       string `json:"oidc_token"`
	OIDCProviderARN string `json:"oidc_provider_arn"`
	Policy          string `json:"policy"`
	ExternalID      string `json:"external_id"`
	ProcessCommand  string `json:"process_command"`
}

// definition is what identifies a profile's credentials: its mode and the fields that mode reads,
// not the rest of the profile (region, language, the tokens the CLI writes back after a refresh),
// so that the CLI editing the file leaves the identity, and the cache entries, as they are.
func (p cliProfileDoc) definition() string {
	b, _ := json.Marshal(p)
	return digest(b)
}

// source is the profile name as a source; ok is false when the config has no such profile.
func (c *cliConfig) source(o ChainOptions, name string, depth int) (source, bool, error) {
	raw, ok := c.profiles[name]
	if !ok {
		return source{}, false, nil
	}
	label := fmt.Sprintf("Alibaba Cloud CLI profile %q (%s)", name, c.path)
	fail := func(format string, a ...any) (source, bool, error) {
		return source{}, true, fmt.Errorf("%s: %s", label, fmt.Sprintf(format, a...))
	}
	var p cliProfileDoc
	if err := json.Unmarshal(raw, &p); err != nil {
		return fail("a field has the wrong type: fix it with `aliyun configure --profile %s`", name)
	}
	s := source{name: label, identity: "cli\x00" + c.path + "\x00" + name + "\x00" + p.definition(),
		fix: "fix profile " + name + " in " + c.path + " (aliyun configure --profile " + name + ")"}
	if p.Policy != "" && (p.Mode == "RamRoleArn" || p.Mode == "ChainableRamRoleArn" || p.Mode == "OIDC") {
		return fail("a session policy (policy) is not supported by docker-credential-acr: remove it, or use a role whose own policy is narrow enough")
	}
	hop := func(base Provider) Provider {
		return Hop{RoleARN: p.RoleArn, SessionName: p.RoleSessionName, ExternalID: p.ExternalID, Duration: time.Duration(p.DurationSeconds) * time.Second}.
			Assume(base, o.STSEndpoint, o.Retry)
	}
	static := Static(Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.SecurityToken, Source: label})
	switch p.Mode {
	case "AK", "StsToken", "RamRoleArn":
		if p.AccessKeyID == "" || p.AccessKeySecret == "" || (p.Mode == "StsToken" && p.SecurityToken == "") {
			return fail("mode %s needs access_key_id and access_key_secret%s", p.Mode, map[bool]string{true: " and sts_token", false: ""}[p.Mode == "StsToken"])
		}
		s.get = static.Credentials
		if p.Mode == "RamRoleArn" {
			if p.RoleArn == "" {
				return fail("mode RamRoleArn needs ram_role_arn")
			}
			s.get = hop(static).Credentials
		}
	case "ChainableRamRoleArn":
		if p.RoleArn == "" || p.SourceProfile == "" {
			return fail("mode ChainableRamRoleArn needs ram_role_arn and source_profile")
		}
		if depth > 8 {
			return fail("source_profile chains more than 8 profiles (a loop?)")
		}
		base, ok, err := c.source(o, p.SourceProfile, depth+1)
		if err != nil {
			return source{}, true, err
		}
		if !ok {
			return fail("its source_profile %q is not in %s", p.SourceProfile, c.path)
		}
		s.identity += "\x00" + base.identity
		s.get = hop(ProviderFunc(base.get)).Credentials
	case "EcsRamRole":
		if o.metadataDisabled() {
			return fail("%s", errMetadataDisabled("mode EcsRamRole"))
		}
		s.get = newECSRAMRole(p.RoleName, strings.EqualFold(o.env("ALIBABA_CLOUD_IMDSV1_DISABLED"), "true")).Credentials
	case "OIDC":
		if p.RoleArn == "" || p.OIDCProviderARN == "" || (p.OIDCToken == "" && p.OIDCTokenFile == "") {
			return fail("mode OIDC needs ram_role_arn, oidc_provider_arn and oidc_token_file (or oidc_token)")
		}
		s.get = (&OIDC{RoleARN: p.RoleArn, ProviderARN: p.OIDCProviderARN, Token: p.OIDCToken, TokenFile: p.OIDCTokenFile,
			SessionName: p.RoleSessionName, Duration: time.Duration(p.DurationSeconds) * time.Second,
			Endpoint: o.STSEndpoint, Retry: o.Retry, label: label}).Credentials
	case "External":
		if p.ProcessCommand == "" {
			return fail("mode External needs process_command")
		}
		// The command runs as this user (root, under the kubelet): only a file that no other
		// user could have written may name it.
		if _, _, err := trustedpath.Resolve(c.path, os.Geteuid(), 0); err != nil {
			return fail("its process_command is not run: %v; only a file owned by you or root, in directories owned by you or root, none writable by group or others, may name a command (chmod go-w, chown)", err)
		}
		ext, err := newExternal(p.ProcessCommand, label, o)
		if err != nil {
			return fail("%v", err)
		}
		s.get = ext.Credentials
	case "CloudSSO", "OAuth":
		return fail("mode %s needs the Alibaba Cloud CLI's browser sign-in, and its tokens are written back to the CLI config, which docker-credential-acr never writes: use a profile of mode AK, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC or External (a command printing credentials), or the environment's AccessKey", p.Mode)
	default:
		return fail("mode %q is not one docker-credential-acr reads (AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, External)", p.Mode)
	}
	return s, true, nil
}

// credentialsFile is the ini credentials file.
type credentialsFile struct {
	path string
	f    *ini.File
}

func parseCredentialsFile(path string, data []byte) (*credentialsFile, error) {
	f, err := ini.Load(data)
	if err != nil {
		return nil, fmt.Errorf("the credentials file %s is not a valid ini file: fix it, or set ALIBABA_CLOUD_CREDENTIALS_FILE to another file", path)
	}
	return &credentialsFile{path: path, f: f}, nil
}

func (c *credentialsFile) names() []string {
	out := []string{}
	for _, s := range c.f.Sections() {
		if s.Name() != ini.DefaultSection || len(s.Keys()) > 0 {
			out = append(out, s.Name())
		}
	}
	sort.Strings(out)
	return out
}

// source is section name as a source; ok is false when the file has no such section.
func (c *credentialsFile) source(o ChainOptions, name string) (source, bool, error) {
	sec, err := c.f.GetSection(name)
	if err != nil {
		return source{}, false, nil
	}
	label := fmt.Sprintf("credentials file profile %q (%s)", name, c.path)
	v := func(k string) string { return strings.TrimSpace(sec.Key(k).String()) }
	var b strings.Builder
	for _, k := range sec.Keys() {
		b.WriteString(k.Name() + "=" + k.Value() + "\n")
	}
	s := source{name: label, identity: "ini\x00" + c.path + "\x00" + name + "\x00" + digest([]byte(b.String())),
		fix: "fix section [" + name + "] of " + c.path}
	fail := func(format string, a ...any) (source, bool, error) {
		return source{}, true, fmt.Errorf("%s: %s", label, fmt.Sprintf(format, a...))
	}
	switch v("type") {
	case "access_key", "ram_role_arn":
		if v("access_key_id") == "" || v("access_key_secret") == "" {
			return fail("type %s needs access_key_id and access_key_secret", v("type"))
		}
		static := Static(Credentials{AccessKeyID: v("access_key_id"), AccessKeySecret: v("access_key_secret"), Source: label})
		s.get = static.Credentials
		if v("type") == "ram_role_arn" {
			if v("role_arn") == "" {
				return fail("type ram_role_arn needs role_arn")
			}
			if v("policy") != "" {
				return fail("a session policy (policy) is not supported by docker-credential-acr: remove it")
			}
			s.get = Hop{RoleARN: v("role_arn"), SessionName: v("role_session_name")}.Assume(static, o.STSEndpoint, o.Retry).Credentials
		}
	case "ecs_ram_role":
		if o.metadataDisabled() {
			return fail("%s", errMetadataDisabled("type ecs_ram_role"))
		}
		s.get = newECSRAMRole(v("role_name"), strings.EqualFold(o.env("ALIBABA_CLOUD_IMDSV1_DISABLED"), "true")).Credentials
	case "":
		return fail("no type: set type = access_key (with access_key_id, access_key_secret), ram_role_arn or ecs_ram_role")
	default:
		return fail("type %q is not one the Alibaba Cloud credentials library reads here (access_key, ram_role_arn, ecs_ram_role)", v("type"))
	}
	return s, true, nil
}

// brokenSource is a source present whose definition is wrong: it fails with the reason.
func brokenSource(name, identity, fix string, err error) source {
	return source{name: name, identity: identity + "\x00broken", fix: fix, get: func(context.Context) (Credentials, error) {
		return Credentials{}, err
	}}
}

// profileSources are the default chain's profile sources, as credentials-go finds them: the CLI
// config's profile (ALIBABA_CLOUD_PROFILE, else its current one), then the credentials file's
// section (ALIBABA_CLOUD_PROFILE, else default). A file that is present but unreadable or broken,
// or a profile it names that is missing, is a source that fails with the reason: the chain never
// uses the next source in its place. A credentials file without the section is absent (its
// sections may be there for `profile:` entries), unless ALIBABA_CLOUD_PROFILE names a profile
// that neither file has.
func profileSources(o ChainOptions) []source {
	chosen := o.env("ALIBABA_CLOUD_PROFILE")
	var found bool
	var srcs []source
	nf := &ProfileNotFoundError{Name: chosen, CLIConfig: o.cliConfigPath(), CredentialsFile: o.credentialsFilePath()}
	if !strings.EqualFold(o.env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"), "true") {
		path := nf.CLIConfig
		fix := "fix " + path + " (aliyun configure), or set ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true to use the next source"
		data, err := readSmall(path)
		switch {
		case err == nil:
			conf, err := parseCLIConfig(path, data)
			if err != nil {
				return []source{brokenSource("Alibaba Cloud CLI config ("+path+")", "cli\x00"+path, fix, err)}
			}
			name := chosen
			if name == "" {
				name = conf.current
			}
			s, ok, err := conf.source(o, name, 0)
			switch {
			case err != nil:
				return []source{brokenSource(fmt.Sprintf("Alibaba Cloud CLI profile %q (%s)", name, path), "cli\x00"+path+"\x00"+name, fix, err)}
			case ok:
				s.fix += ", or set ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true to use the next source"
				srcs, found = append(srcs, s), true
			case chosen == "" && name != "":
				// The config's own current profile is missing: the CLI config is broken.
				return []source{brokenSource(fmt.Sprintf("Alibaba Cloud CLI profile %q (%s)", name, path), "cli\x00"+path+"\x00"+name, fix,
					fmt.Errorf("the config's current profile %q is not among its profiles (%s)", name, strings.Join(conf.names(), ", ")))}
			}
			nf.CLIProfiles = conf.names()
		case present(path):
			return []source{unreadable("Alibaba Cloud CLI config ("+path+")", "cli\x00"+path, err, fix)}
		}
	}
	path := nf.CredentialsFile
	name := chosen
	if name == "" {
		name = "default"
	}
	fix := "fix section [" + name + "] of " + path + ", or set ALIBABA_CLOUD_CREDENTIALS_FILE to another file"
	data, err := readSmall(path)
	switch {
	case err == nil:
		f, err := parseCredentialsFile(path, data)
		if err != nil {
			return append(srcs, brokenSource("credentials file ("+path+")", "ini\x00"+path, fix, err))
		}
		s, ok, err := f.source(o, name)
		switch {
		case err != nil:
			return append(srcs, brokenSource(fmt.Sprintf("credentials file profile %q (%s)", name, path), "ini\x00"+path+"\x00"+name, fix, err))
		case ok:
			s.fix = fix
			srcs, found = append(srcs, s), true
		}
		nf.CredentialsFileNames = f.names()
	case present(path):
		return append(srcs, unreadable("credentials file ("+path+")", "ini\x00"+path, err, fix))
	}
	if chosen != "" && !found && (nf.CLIProfiles != nil || nf.CredentialsFileNames != nil) {
		return []source{brokenSource(fmt.Sprintf("profile %q (ALIBABA_CLOUD_PROFILE)", chosen), "profile\x00"+chosen, "set ALIBABA_CLOUD_PROFILE to one of the profiles that exist, or unset it", nf)}
	}
	return srcs
}

// metadataDisabled reports ALIBABA_CLOUD_ECS_METADATA_DISABLED=true, which turns the metadata
// service off for every source, profiles included (credentials-go refuses to build the ECS
// provider then).
func (o ChainOptions) metadataDisabled() bool {
	return strings.EqualFold(o.env("ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "true")
}

func errMetadataDisabled(what string) string {
	return what + " needs the ECS metadata service, which ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns off: unset it, or use a profile of another mode"
}
