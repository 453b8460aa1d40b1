package cloudapi

import "github.com/docker-credential-acr/docker-credential-acr/internal/endpoint"

// IsLoopback is endpoint.IsLoopback.
func IsLoopback(hostport string) bool { return endpoint.IsLoopback(hostport) }
