// Package endpoint resolves the Alibaba Cloud API endpoints and checks overrides of them. It imports
// no cloud SDK: the settings reader (config) checks overrides with it, and package cloudapi
// (the SDK call path) re-exports it.
package endpoint

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
)

// errNoRegion is the error of ResolveEndpoint when the endpoint needs a region and none is known
// (callers may then choose a global endpoint); a region that is not a region id is another error.
var errNoRegion = errors.New("no region known")

// regionError is a region that is not a region id, wherever it came from.
type regionError struct{ Region string }

func (e *regionError) Error() string {
	return fmt.Sprintf("%q is not a region id such as cn-hangzhou", e.Region)
}

// Endpoint is where an API is served.
type Endpoint struct {
	Host   string // host[:port]
	Scheme string // "https", or "http" for loopback hosts only
	// RootCAs, when set, are the only certificate authorities trusted for this endpoint (a KMS
	// instance gateway's private CA, named in the configuration); nil is the system roots.
	RootCAs *x509.CertPool
}

func (e Endpoint) String() string { return e.Scheme + "://" + e.Host }

// ResolveEndpoint builds the endpoint of product ("cr" or "sts") in region. An override (from the
// config file or the environment) is "host[:port]", "https://host[:port]" or, for loopback hosts
// only, "http://host[:port]"; "{region}" in it is replaced by the region. Without an override the
// public endpoint "<product>.<region>.aliyuncs.com" is used, or "<product>-vpc.<region>…" with vpc.
//
// region, whatever its source (environment, config, an API answer, a registry challenge), must be
// a region id (acr.ValidRegion) or empty: it is never a way to build another host name.
func ResolveEndpoint(override, product, region string, vpc bool) (Endpoint, error) {
	if region != "" && !acr.ValidRegion(region) {
		return Endpoint{}, fmt.Errorf("%s endpoint: %w", product, &regionError{Region: region})
	}
	if override == "" {
		if region == "" {
			return Endpoint{}, fmt.Errorf("%w for the %s endpoint", errNoRegion, product)
		}
		p := product
		if vpc {
			p += "-vpc"
		}
		return Endpoint{Host: p + "." + region + ".aliyuncs.com", Scheme: "https"}, nil
	}
	raw := strings.TrimSpace(override)
	if strings.Contains(raw, "{region}") {
		if region == "" {
			return Endpoint{}, fmt.Errorf("%s endpoint %q needs a region, and none is known: %w", product, raw, errNoRegion)
		}
		raw = strings.ReplaceAll(raw, "{region}", region)
	}
	e := Endpoint{Scheme: "https"}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "https://"):
		raw = raw[len("https://"):]
	case strings.HasPrefix(lower, "http://"):
		raw = raw[len("http://"):]
		e.Scheme = "http"
	}
	raw = strings.TrimSuffix(strings.ToLower(raw), "/")
	if _, err := acr.ParseHostPort(raw); err != nil { // the helper's one host grammar
		return Endpoint{}, fmt.Errorf("%s endpoint %q is not host[:port]: write it like %s.cn-hangzhou.aliyuncs.com or https://host:port", product, override, product)
	}
	e.Host = raw
	if e.Scheme == "http" && !IsLoopback(e.Host) {
		return Endpoint{}, fmt.Errorf("%s endpoint %q uses plain http, which is allowed only for loopback hosts: use https", product, override)
	}
	return e, nil
}

// CheckOverride says whether an endpoint override of product ("cr" or "sts") is well formed, so
// that a bad one is reported when the configuration is read, not replaced or found at run time.
// "{region}" in it stands for any region.
func CheckOverride(product, override string) error {
	_, err := ResolveEndpoint(override, product, "cn-hangzhou", false)
	return err
}

// IsLoopback reports whether host[:port] is "localhost" or a literal loopback address (never a
// name that merely starts with "127."): the only hosts plain http may go to, and directly.
func IsLoopback(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
