package config

import (
	"github.com/docker-credential-acr/docker-credential-acr/acr"

	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/docker-credential-acr/docker-credential-acr/internal/endpoint"
)

// The file: YAML (JSON is YAML too), every key known, every value checked, every problem said with
// the file, the line, the key and the fix.

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
	// The ACK add-on spells its keys with dashes (watch-namespace, expiring-threshold): the same
	// key either way, so that the add-on's values work as written.
	k := strings.ToLower(strings.ReplaceAll(key, "-", ""))
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
	return c.parseDocument(path, &doc)
}

func (c *Config) parseDocument(path string, doc *yaml.Node) error {
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
			if err := mapping(p, k, v, []field{
				{[]string{"cr"}, endpointSetter(&c.Endpoints.CR, "cr")},
				{[]string{"sts"}, endpointSetter(&c.Endpoints.STS, "sts")},
				{[]string{"kms"}, endpointSetter(&c.Endpoints.KMS, "kms")},
				{[]string{"kmscafile"}, caFileSetter(&c.Endpoints.KMSCA)},
			}); err != nil {
				return err
			}
			if c.Endpoints.KMSCA != nil && c.Endpoints.KMS == "" {
				return fileError(p, v, k+".kmsCAFile", "is the CA of a KMS endpoint override, and endpoints.kms is not set: add kms (such as kst-xxx.cryptoservice.kms.aliyuncs.com), or remove kmsCAFile; the default KMS endpoints need no CA file")
			}
			return nil
		}},
		{[]string{"registries", "instances"}, c.setRegistries},
	}
	return mapping(path, "", root, append(append(top, c.Cluster.fields()...), c.addonFields()...))
}

func (r *Registry) fields() []field {
	return append([]field{
		{[]string{"domains"}, func(p, k string, v *yaml.Node) error {
			switch v.Kind {
			case yaml.ScalarNode: // ACK add-on style: comma-separated
				for _, d := range strings.Split(v.Value, ",") {
					if d = strings.TrimSpace(d); d != "" {
						r.Domains = append(r.Domains, canonicalDomain(d))
					}
				}
			case yaml.SequenceNode:
				for _, item := range v.Content {
					if item.Kind != yaml.ScalarNode {
						return fileError(p, item, k, "each domain must be a host name such as registry.example.com")
					}
					r.Domains = append(r.Domains, canonicalDomain(item.Value))
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
			if v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "" {
				return nil // the add-on's form writes "": the default
			}
			d, err := durationNode(p, k, v)
			r.ExpireDuration = int(d / time.Second)
			return err
		}},
		{[]string{"rolesessionname"}, stringSetter(&r.RoleSessionName)},
		{[]string{"vpc"}, func(p, k string, v *yaml.Node) error {
			var b bool
			err := boolSetter(&b)(p, k, v)
			r.VPC = &b
			return err
		}},
		{[]string{"rrsarolearn"}, stringSetter(&r.RRSARoleARN)},
		{[]string{"rrsaoidcproviderrolearn", "oidcproviderarn"}, stringSetter(&r.RRSAOIDCProviderARN)},
		{[]string{"oidctokenfile"}, stringSetter(&r.OIDCTokenFile)},
		{[]string{"profile"}, stringSetter(&r.Profile)},
	}, append(r.secretFields(), r.addonEntryFields()...)...)
}

func (c *Config) setRegistries(p, k string, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return fileError(p, v, k, "must be a list of entries, each starting with '- '")
	}
	var nodes []*yaml.Node
	for i, item := range v.Content {
		r := Registry{index: i, file: p, line: item.Line}
		if err := mapping(p, fmt.Sprintf("%s[%d]", k, i), item, r.fields()); err != nil {
			return err
		}
		if err := r.validate(p, fmt.Sprintf("%s[%d]", k, i), item); err != nil {
			return err
		}
		if r.CustomAccessKey != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s.customAccessKey puts an AccessKey pair in the configuration, readable by whoever reads it: prefer RRSA (rrsaRoleARN and rrsaOIDCProviderRoleARN, with rrsa: enable: true) or the node's RAM role", r.Describe(), fmt.Sprintf("%s[%d]", k, i)))
		}
		c.Registries = append(c.Registries, r)
		nodes = append(nodes, item)
	}
	return checkRegions(p, k, c.Registries, nodes)
}

func (r *Registry) validate(p, k string, n *yaml.Node) error {
	if r.InstanceID != "" && !acr.ValidInstanceID(strings.ToLower(r.InstanceID)) {
		return fileError(p, n, k+".instanceId", fmt.Sprintf("%q is not an ACR instance id: Enterprise ids look like cri-xxxxxxxxxxxxxxxx (see the console's instance overview)", r.InstanceID))
	}
	if r.InstanceID != "" {
		r.InstanceID = strings.ToLower(r.InstanceID)
	}
	if r.RegionID != "" && !validRegion(r.RegionID) {
		return fileError(p, n, k+".regionId", fmt.Sprintf("%q is not a region id such as cn-hangzhou", r.RegionID))
	}
	for name, arn := range map[string]string{"arnService": r.ArnService, "arnUser": r.ArnUser, "rrsaRoleARN": r.RRSARoleARN} {
		if _, ok := acr.ParseRoleARN(arn); arn != "" && !ok {
			return fileError(p, n, k+"."+name, fmt.Sprintf("%q is not a RAM role ARN: write acs:ram::<account-id>:role/<role-name>", arn))
		}
	}
	if _, ok := acr.ParseProviderARN(r.RRSAOIDCProviderARN); r.RRSAOIDCProviderARN != "" && !ok {
		return fileError(p, n, k+".oidcProviderArn", fmt.Sprintf("%q is not an OIDC provider ARN: write acs:ram::<account-id>:oidc-provider/<name>", r.RRSAOIDCProviderARN))
	}
	if (r.RRSARoleARN == "") != (r.RRSAOIDCProviderARN == "") {
		return fileError(p, n, k, "rrsaRoleARN and rrsaOIDCProviderRoleARN go together: set both, or neither")
	}
	if r.Profile != "" && r.RRSARoleARN != "" {
		return fileError(p, n, k+".profile", "and rrsaRoleARN both name the entry's base credentials: keep one")
	}
	if r.ExternalID != "" && r.ArnService == "" && r.ArnUser == "" {
		return fileError(p, n, k+".externalId", "is set but no role is: add arnUser (and arnService for two hops), or remove externalId")
	}
	if err := r.validateAddon(p, k, n); err != nil {
		return err
	}
	if r.ExpireDuration != 0 && (r.ExpireDuration < 900 || r.ExpireDuration > 43200) {
		return fileError(p, n, k+".expireDuration", fmt.Sprintf("%d is outside 900..43200 seconds", r.ExpireDuration))
	}
	if r.ExpireDuration == 0 {
		r.ExpireDuration = defaultExpireDuration
	}
	if r.RoleSessionName == "" {
		r.RoleSessionName = DefaultRoleSessionName
	}
	return r.validateSecret(p, k, n)
}

func validRegion(s string) bool { return acr.ValidRegion(s) }

// validDomain: a domain entry is what acr.Registry.MatchesDomain can match, host[:port].
func validDomain(d string) bool {
	_, err := acr.ParseHostPort(d)
	return err == nil
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

// endpointSetter reads an endpoint override of product and checks it now: a bad one is never
// replaced by a default behind the user's back.
func endpointSetter(dst *string, product string) func(string, string, *yaml.Node) error {
	set := stringSetter(dst)
	return func(p, k string, v *yaml.Node) error {
		if err := set(p, k, v); err != nil {
			return err
		}
		if err := endpoint.CheckOverride(product, *dst); *dst != "" && err != nil {
			return fileError(p, v, k, err.Error()+" (or remove "+k+" to use the default endpoint)")
		}
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
