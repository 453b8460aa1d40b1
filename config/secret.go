package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// Secret is where a registry entry's login comes from when it is not ACR's: a KMS Secrets
// Manager secret holding {"username": "…", "password": "…"} (Docker Hub, GHCR, Quay, a company
// registry), read with the entry's own identity (credential chain and role hops).
type Secret struct {
	Ref   secrets.Ref   // which secret, in which region (and account, from an ARN)
	Stage string        // the version stage read (secrets.DefaultStage unless versionStage is set)
	TTL   time.Duration // how long a login read from it is cached (secretTTL)
	// Endpoint is the entry's kmsEndpoint (a KMS instance gateway), "" for endpoints.kms or the
	// default; CA is its kmsCAFile. See Config.KMSEndpoint.
	Endpoint string
	CA       *CAFile
}

// secretSettings are the entry's secret keys as written, checked together by validateSecret.
type secretSettings struct {
	name, stage string
	ttl         time.Duration
	stageNode   *yaml.Node
	ttlNode     *yaml.Node
	endpoint    string
	ca          *CAFile
	endpointKey *yaml.Node // the kmsEndpoint and kmsCAFile values, for messages
	caKey       *yaml.Node
}

// secretFields are the keys of a secret entry, appended to the entry's field table.
func (r *Registry) secretFields() []field {
	s := &r.secret
	return []field{
		{[]string{"secret"}, stringSetter(&s.name)},
		{[]string{"versionstage"}, func(p, k string, v *yaml.Node) error {
			s.stageNode = v
			return stringSetter(&s.stage)(p, k, v)
		}},
		{[]string{"kmsendpoint"}, func(p, k string, v *yaml.Node) error {
			s.endpointKey = v
			return endpointSetter(&s.endpoint, "kms")(p, k, v)
		}},
		{[]string{"kmscafile"}, func(p, k string, v *yaml.Node) error {
			s.caKey = v
			return caFileSetter(&s.ca)(p, k, v)
		}},
		{[]string{"secretttl"}, func(p, k string, v *yaml.Node) error {
			s.ttlNode = v
			d, err := durationNode(p, k, v)
			s.ttl = d
			if err == nil && d == 0 {
				err = fileError(p, v, k, "must be a duration from 1s to 1h, such as 15m (remove it for the default, 15m)")
			}
			return err
		}},
	}
}

// validateSecret checks an entry's secret keys and fills in r.Secret. A secret entry is not an
// ACR entry: it names the hosts it serves (never a catch-all) and no instance.
func (r *Registry) validateSecret(p, k string, n *yaml.Node) error {
	s := r.secret
	if s.name == "" {
		switch {
		case s.stageNode != nil:
			return fileError(p, s.stageNode, k+".versionStage", "is set but secret is not: add secret (the KMS secret holding the login), or remove versionStage")
		case s.ttlNode != nil:
			return fileError(p, s.ttlNode, k+".secretTTL", "is set but secret is not: add secret (the KMS secret holding the login), or remove secretTTL")
		case s.endpointKey != nil:
			return fileError(p, s.endpointKey, k+".kmsEndpoint", "is set but secret is not: add secret (the KMS secret holding the login), or remove kmsEndpoint")
		case s.caKey != nil:
			return fileError(p, s.caKey, k+".kmsCAFile", "is set but secret is not: add secret (the KMS secret holding the login), or remove kmsCAFile")
		}
		return nil
	}
	if s.ca != nil && s.endpoint == "" {
		return fileError(p, s.caKey, k+".kmsCAFile", "is the CA of the entry's kmsEndpoint, which is not set: add kmsEndpoint (the KMS instance gateway, such as kst-xxx.cryptoservice.kms.aliyuncs.com), or remove kmsCAFile")
	}
	if r.InstanceID != "" {
		return fileError(p, n, k+".secret", "an entry with a secret reads its login from KMS Secrets Manager, not from an ACR instance: remove instanceId, or put the secret in an entry of its own")
	}
	if len(r.Domains) == 0 {
		return fileError(p, n, k+".secret", "an entry with a secret must list the registries it serves: add domains, such as [ghcr.io] or [docker.io]")
	}
	ref, err := secrets.ParseRef(s.name, r.RegionID)
	if err != nil {
		return fileError(p, n, k+".secret", err.Error())
	}
	stage, err := secrets.CheckStage(s.stage)
	if err != nil {
		return fileError(p, s.stageNode, k+".versionStage", err.Error())
	}
	ttl, err := secrets.CheckTTL(s.ttl)
	if err != nil {
		return fileError(p, s.ttlNode, k+".secretTTL", err.Error())
	}
	r.Secret = &Secret{Ref: ref, Stage: stage, TTL: ttl, Endpoint: s.endpoint, CA: s.ca}
	if r.RegionID == "" {
		r.RegionID = ref.Region // from the ARN: the region of the STS calls of the entry's hops too
	}
	return nil
}

// canonicalDomain is how a `domains` item is kept: lower case, and docker.io for every name
// clients give Docker Hub (https://index.docker.io/v1/, index.docker.io, registry-1.docker.io).
func canonicalDomain(d string) string {
	return secrets.CanonicalDomain(strings.ToLower(strings.TrimSpace(d)))
}
