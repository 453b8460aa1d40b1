package cloudapi

import "github.com/docker-credential-acr/docker-credential-acr/internal/endpoint"

// The endpoint rules live in internal/endpoint, which imports no SDK (so config, which checks
// overrides with them, links none); the call path names them here.

// Endpoint is where an API is served.
type Endpoint = endpoint.Endpoint

// ResolveEndpoint is endpoint.ResolveEndpoint.
func ResolveEndpoint(override, product, region string, vpc bool) (Endpoint, error) {
	return endpoint.ResolveEndpoint(override, product, region, vpc)
}

// CheckOverride is endpoint.CheckOverride.
func CheckOverride(product, override string) error { return endpoint.CheckOverride(product, override) }
