package main

// helper.go is the controller's one point of contact with the helper's packages (config, acr,
// keychain): everything it needs from them goes through the three functions here, so that a change
// of their API is a change of this file only.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
)

// loadConfig reads the helper's config file at path, with the process environment's overrides,
// as the helper does.
func loadConfig(path string) (*config.Config, error) {
	return config.LoadFile(path, os.Getenv)
}

// settingsEnv is what settingsFrom needs besides the config: where the cluster's region comes
// from, and whether the config is the ACK add-on's ConfigMap (where no entry at all means the
// Personal Edition of the cluster's region, as the add-on does).
type settingsEnv struct {
	region *clusterRegion
	addon  bool
	// warned holds the config warnings already logged (a reload says each one once); nil logs all.
	warned map[string]bool
}

// settingsFrom turns the helper's config into the controller's settings: per registries entry its
// hosts and a fetch of its one token (ADAPTER POINT: keychain.New(Options{Config, Logger}).Login(ctx, host)
// → Login{Username, Secret, ExpiresAt}, and Keychain.InstanceLogin for an instance without domains;
// no CacheDir, the controller keeps the tokens).
func settingsFrom(ctx context.Context, cfg *config.Config, env settingsEnv, log *slog.Logger) (refresh.Settings, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, w := range cfg.Warnings {
		if env.warned == nil || !env.warned[w] {
			log.Warn(w)
		}
		if env.warned != nil {
			env.warned[w] = true
		}
	}
	if cfg.Cluster.RRSA && cfg.Env("ALIBABA_CLOUD_OIDC_TOKEN_FILE") == "" && cfg.Env("ALIBABA_CLOUD_OIDC_TOKEN") == "" {
		return refresh.Settings{}, fmt.Errorf("%s: rrsa: enable: true, but the pod has no projected service-account token: deploy/deployment.yaml mounts one (volume rrsa-token, audience sts.aliyuncs.com) and sets ALIBABA_CLOUD_OIDC_TOKEN_FILE to it", cfg.Path)
	}
	k, err := keychain.New(keychain.Options{Config: cfg, Logger: log}) // no CacheDir: cannot fail
	if err != nil {
		return refresh.Settings{}, err
	}
	s := refresh.Settings{
		Namespaces:      cfg.Cluster.Namespaces(),
		ServiceAccounts: cfg.Cluster.Accounts(),
		Threshold:       cfg.ExpiringThreshold,
		Email:           cfg.Cluster.NotifyEmail,
	}
	w := cfg.Cluster.WebhookSettings()
	s.Webhook = refresh.Webhook{Enable: w.Enable, FailurePolicy: w.FailurePolicy, TimeoutSeconds: int32(w.TimeoutSeconds)}
	region := func(what string) (string, error) {
		if env.region == nil {
			return "", fmt.Errorf("%s names no regionId, and the cluster's region is unknown: add regionId, or start the controller with --region", what)
		}
		r, err := env.region.get(ctx)
		if err != nil {
			return "", fmt.Errorf("%s names no regionId, and the cluster's region is unknown (%v): add regionId, or start the controller with --region", what, err)
		}
		return r, nil
	}
	if len(cfg.Registries) == 0 && (env.addon || cfg.Cluster.RegistryInfo) {
		rg, err := region("acr-registry-info (empty: the Personal Edition of the cluster's region)")
		if err != nil {
			return refresh.Settings{}, fmt.Errorf("%s: %w", cfg.Path, err)
		}
		hosts := personalHosts(rg)
		s.Registries = append(s.Registries, refresh.Registry{
			Key: registryKey(cfg, config.Registry{RegionID: rg}, hosts), Name: "Personal Edition of " + rg, Hosts: hosts,
			Fetch: hostFetch(k, hosts[0]),
		})
		return s, nil
	}
	owner := map[string]string{}
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		if r.Secret != nil {
			log.Warn("skipping a KMS secret entry: the controller writes ACR logins only; give these registries a pull Secret of their own", "entry", r.Describe(), "secret", r.Secret.Ref.String())
			continue
		}
		if r.InstanceID != "" && !strings.HasPrefix(r.InstanceID, "crpi-") && len(r.Domains) == 0 {
			// The add-on's form: every domain of the instance, from ListInstanceEndpoint at each
			// refresh (one call per registry, whatever the number of namespaces).
			rg := r.RegionID
			if rg == "" {
				var err error
				if rg, err = region(r.Describe()); err != nil {
					return refresh.Settings{}, fmt.Errorf("%s: %w", cfg.Path, err)
				}
			}
			entry := *r
			s.Registries = append(s.Registries, refresh.Registry{
				Key: registryKey(cfg, entry, []string{"instance", rg}), Name: r.Describe(),
				Fetch: func(ctx context.Context) (refresh.Token, error) {
					l, domains, err := k.InstanceLogin(ctx, &entry, rg)
					if err != nil {
						return refresh.Token{}, err
					}
					return refresh.Token{Username: l.Username, Password: l.Secret, ExpiresAt: l.ExpiresAt, Hosts: domains}, nil
				},
			})
			continue
		}
		var hosts []string
		var tokenHost string
		var err error
		if len(r.Domains) == 0 && r.InstanceID == "" && r.RegionID == "" {
			// No instanceId, no regionId: the Personal Edition of the cluster's region.
			rg, err := region(r.Describe())
			if err != nil {
				return refresh.Settings{}, fmt.Errorf("%s: %w", cfg.Path, err)
			}
			hosts = personalHosts(rg)
			tokenHost = hosts[0]
		} else if hosts, tokenHost, err = entryHosts(r); err != nil {
			return refresh.Settings{}, fmt.Errorf("%s: %s: %w", cfg.Path, r.Describe(), err)
		}
		// The Keychain picks an entry per host; the token host must pick this one, or the Secret
		// would carry another entry's identity under this entry's hosts.
		reg, _ := acr.Parse(tokenHost)
		got := cfg.Match(reg.MatchesDomain, r.InstanceID)
		if reg.Edition == acr.EditionPersonal {
			got = cfg.MatchPersonal(reg.MatchesDomain, reg.Region)
		}
		if got != r {
			other := "no entry"
			if got != nil {
				other = got.Describe()
			}
			return refresh.Settings{}, fmt.Errorf("%s: %s: its host %s is served by %s: list distinct domains in each entry", cfg.Path, r.Describe(), tokenHost, other)
		}
		for _, h := range hosts {
			if o, dup := owner[h]; dup {
				return refresh.Settings{}, fmt.Errorf("%s: %s and %s both cover %s: one host, one entry", cfg.Path, o, r.Describe(), h)
			}
			owner[h] = r.Describe()
		}
		s.Registries = append(s.Registries, refresh.Registry{
			Key: registryKey(cfg, *r, hosts), Name: r.Describe(), Hosts: hosts, Fetch: hostFetch(k, tokenHost),
		})
	}
	return s, nil
}

func hostFetch(k *keychain.Keychain, host string) func(context.Context) (refresh.Token, error) {
	return func(ctx context.Context) (refresh.Token, error) {
		l, err := k.Login(ctx, host)
		if err != nil {
			return refresh.Token{}, err
		}
		return refresh.Token{Username: l.Username, Password: l.Secret, ExpiresAt: l.ExpiresAt}, nil
	}
}

// registryKey changes whenever anything that decides an entry's token changes. It is a hash: the
// entry may hold an AccessKey secret (customAccessKeySecret).
func registryKey(cfg *config.Config, r config.Registry, hosts []string) string {
	b, _ := json.Marshal(struct {
		Entry            config.Registry
		Hosts            []string
		Endpoints        config.Endpoints
		VPC, STSVPC, ECS bool
	}{r, hosts, cfg.Endpoints, cfg.VPC, cfg.STSVPCEnv, cfg.ECSMetadata})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// entryHosts lists the hosts one entry's token serves (ACR's naming rules: an instance's default
// domain and its -vpc twin, Personal Edition's public, -vpc and -internal hosts of the region) and
// the host to ask the Keychain for, which must let it find the instance and region from the entry
// alone: one API call per refresh.
func entryHosts(r *config.Registry) (hosts []string, tokenHost string, err error) {
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	var defaultHost, customHost string
	for _, d := range r.Domains {
		reg, perr := acr.Parse(d)
		if perr != nil {
			return nil, "", perr
		}
		add(reg.Host)
		switch reg.Edition {
		case acr.EditionEnterprise:
			if r.InstanceID == "" {
				return nil, "", fmt.Errorf("%s is an Enterprise Edition domain: add instanceId (cri-…, from the console's instance overview) so that each refresh is one GetAuthorizationToken call", reg.Host)
			}
			if !reg.P2P {
				add(reg.InstanceName + "-registry." + reg.Region + ".cr.aliyuncs.com")
				add(reg.InstanceName + "-registry-vpc." + reg.Region + ".cr.aliyuncs.com")
			}
		case acr.EditionPersonal:
			for _, h := range personalHosts(reg.Region) {
				add(h)
			}
		case acr.EditionPersonalInstance:
			add(reg.InstanceID + "." + reg.Region + ".personal.cr.aliyuncs.com")
			add(reg.InstanceID + "-vpc." + reg.Region + ".personal.cr.aliyuncs.com")
		case acr.EditionUnknown:
			if customHost == "" {
				customHost = reg.Host
			}
		}
		if reg.Edition != acr.EditionUnknown && defaultHost == "" {
			defaultHost = reg.Host
		}
	}
	if customHost != "" && (r.InstanceID == "" || r.RegionID == "" && defaultHost == "") {
		return nil, "", fmt.Errorf("custom domain %s needs instanceId and regionId in the entry (the controller does not probe registries)", customHost)
	}
	switch {
	case len(r.Domains) > 0:
		tokenHost = defaultHost
		if tokenHost == "" {
			tokenHost = customHost
		}
	case strings.HasPrefix(r.InstanceID, "crpi-"):
		if r.RegionID == "" {
			return nil, "", fmt.Errorf("instance %s needs regionId", r.InstanceID)
		}
		add(r.InstanceID + "." + r.RegionID + ".personal.cr.aliyuncs.com")
		add(r.InstanceID + "-vpc." + r.RegionID + ".personal.cr.aliyuncs.com")
		tokenHost = hosts[0]
	case r.InstanceID != "":
		return nil, "", fmt.Errorf("instance %s: add its default domain (<instance-name>-registry.<region>.cr.aliyuncs.com) to domains; the controller derives the -vpc twin", r.InstanceID)
	default:
		if r.RegionID == "" {
			return nil, "", fmt.Errorf("a Personal Edition entry needs regionId (the region of registry.<region>.aliyuncs.com)")
		}
		for _, h := range personalHosts(r.RegionID) {
			add(h)
		}
		tokenHost = hosts[0]
	}
	return hosts, tokenHost, nil
}

// personalHosts are the Personal Edition (classic) hosts of a region, all served by the region's
// one token: China site and international site names, public, VPC and classic-network, and the
// region-less registry.aliyuncs.com, which is cn-hangzhou's.
func personalHosts(region string) []string {
	hosts := []string{"registry." + region + ".aliyuncs.com", "registry-vpc." + region + ".aliyuncs.com", "registry-internal." + region + ".aliyuncs.com",
		"registry-intl." + region + ".aliyuncs.com", "registry-intl-vpc." + region + ".aliyuncs.com"}
	if region == "cn-hangzhou" {
		hosts = append(hosts, "registry.aliyuncs.com")
	}
	return hosts
}
