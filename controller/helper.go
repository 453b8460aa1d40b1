package main

// helper.go is the controller's one point of contact with the helper's packages (config, acr,
// keychain): everything it needs from them goes through the three functions here, so that a change
// of their API is a change of this file only.

import (
	"context"
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

// settingsFrom turns the helper's config into the controller's settings: per registries entry its
// hosts and a fetch of its one token (ADAPTER POINT: keychain.New(Options{Config, Logger}).Login(ctx, host)
// → Login{Username, Secret, ExpiresAt}; Cache nil, the controller keeps the tokens).
func settingsFrom(cfg *config.Config, log *slog.Logger) (refresh.Settings, error) {
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
	owner := map[string]string{}
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		hosts, tokenHost, err := entryHosts(r)
		if err != nil {
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
		key, _ := json.Marshal(struct {
			Entry            config.Registry
			Hosts            []string
			Endpoints        config.Endpoints
			VPC, STSVPC, ECS bool
		}{*r, hosts, cfg.Endpoints, cfg.VPC, cfg.STSVPCEnv, cfg.ECSMetadata})
		s.Registries = append(s.Registries, refresh.Registry{
			Key: string(key), Name: r.Describe(), Hosts: hosts,
			Fetch: func(ctx context.Context) (refresh.Token, error) {
				l, err := k.Login(ctx, tokenHost)
				if err != nil {
					return refresh.Token{}, err
				}
				return refresh.Token{Username: l.Username, Password: l.Secret, ExpiresAt: l.ExpiresAt}, nil
			},
		})
	}
	return s, nil
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
			for _, h := range personalHosts(reg.Region, reg.Intl) {
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
		for _, h := range personalHosts(r.RegionID, false) {
			add(h)
		}
		tokenHost = hosts[0]
	}
	return hosts, tokenHost, nil
}

func personalHosts(region string, intl bool) []string {
	if intl {
		return []string{"registry-intl." + region + ".aliyuncs.com", "registry-intl-vpc." + region + ".aliyuncs.com"}
	}
	return []string{"registry." + region + ".aliyuncs.com", "registry-vpc." + region + ".aliyuncs.com", "registry-internal." + region + ".aliyuncs.com"}
}
