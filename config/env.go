package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"

	"github.com/docker-credential-acr/docker-credential-acr/internal/endpoint"
)

// Environment variables of the helper's own settings. The credential chain's variables
// (ALIBABA_CLOUD_ACCESS_KEY_ID and friends, as credentials-go reads them) are sts's; it reads
// them through Config.Env.
const (
	EnvConfig      = "DOCKER_CREDENTIAL_ACR_CONFIG"
	envStrict      = "DOCKER_CREDENTIAL_ACR_STRICT"
	envTimeout     = "DOCKER_CREDENTIAL_ACR_TIMEOUT"
	envNoCache     = "DOCKER_CREDENTIAL_ACR_NO_CACHE"
	EnvCacheDir    = "DOCKER_CREDENTIAL_ACR_CACHE_DIR"
	EnvDataDir     = "DOCKER_CREDENTIAL_ACR_DATA_DIR"
	EnvLogLevel    = "DOCKER_CREDENTIAL_ACR_LOG_LEVEL"
	envCREndpoint  = "DOCKER_CREDENTIAL_ACR_CR_ENDPOINT"
	envKMSEndpoint = "DOCKER_CREDENTIAL_ACR_KMS_ENDPOINT"
	envSTSEndpoint = "ALIBABA_CLOUD_STS_ENDPOINT"
	envVPC         = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"
	// EnvOIDCAudience is the audience the helper asks a CI's token service for (GitHub Actions);
	// unset, sts.aliyuncs.com.
	EnvOIDCAudience = "DOCKER_CREDENTIAL_ACR_OIDC_AUDIENCE"
	// EnvSTSRegion names the region of the STS endpoint (credentials-go's variable); it is
	// checked here, where it enters, as every region is.
	EnvSTSRegion = "ALIBABA_CLOUD_STS_REGION"
)

const appName = "docker-credential-acr"

// LogLevel is the log level the environment asks for, as given; the logger checks it. It can be
// read before (and without) the rest of the configuration, so that a broken config is logged.
func LogLevel(getenv func(string) string) string { return getenv(EnvLogLevel) }

func (c *Config) applyEnv(getenv func(string) string) error {
	c.LogLevel = LogLevel(getenv)
	if v := getenv(envStrict); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %v", envStrict, v, err)
		}
		c.Strict = b
	}
	if v := getenv(envNoCache); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %v", envNoCache, v, err)
		}
		c.NoCache = b
	}
	if v := getenv(envVPC); strings.EqualFold(strings.TrimSpace(v), "true") {
		c.STSVPCEnv = true
	}
	if v := getenv(EnvSTSRegion); v != "" && !validRegion(v) {
		return fmt.Errorf("%s=%q is not a region id such as cn-hangzhou: it names the STS endpoint (sts.<region>.aliyuncs.com); fix it or unset it", EnvSTSRegion, v)
	}
	if v := getenv(envTimeout); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			return fmt.Errorf("%s=%q: want a duration such as 20s (at most 10m)", envTimeout, v)
		}
		c.Timeout = d
	}
	for _, o := range []struct {
		env, product string
		dst          *string
	}{{envCREndpoint, "cr", &c.Endpoints.CR}, {envSTSEndpoint, "sts", &c.Endpoints.STS}, {envKMSEndpoint, "kms", &c.Endpoints.KMS}} {
		if v := strings.TrimSpace(getenv(o.env)); v != "" {
			if err := endpoint.CheckOverride(o.product, v); err != nil {
				return fmt.Errorf("%s: %v (or unset %s to use the default endpoint)", o.env, err, o.env)
			}
			*o.dst = v
		}
	}
	var err error
	if c.NoCache {
		// no cache directory, and no warning about one
	} else if c.CacheDir, err = userDir(getenv, EnvCacheDir, "XDG_CACHE_HOME", xdg.CacheHome, "cache"); err != nil {
		c.Warnings = append(c.Warnings, "running without the token cache: "+err.Error())
	}
	if c.DataDir, err = userDir(getenv, EnvDataDir, "XDG_DATA_HOME", xdg.DataHome, "data"); err != nil {
		c.Warnings = append(c.Warnings, "the store of `docker login` credentials is not available: "+err.Error())
	}
	return nil
}

// userDir is $explicit if set (it must be absolute), else docker-credential-acr under $xdgVar if
// that is an absolute path, else under xdgDefault (what github.com/adrg/xdg works out, such as
// ~/.cache).
func userDir(getenv func(string) string, explicit, xdgVar, xdgDefault, what string) (string, error) {
	if d := getenv(explicit); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("%s=%q is not an absolute path", explicit, d)
		}
		return filepath.Clean(d), nil
	}
	base := getenv(xdgVar)
	if base == "" || !filepath.IsAbs(base) {
		base = xdgDefault
	}
	if base == "" || !filepath.IsAbs(base) {
		return "", fmt.Errorf("cannot determine the %s directory; set %s", what, explicit)
	}
	return filepath.Join(base, appName), nil
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
