package main

import (
	"net/http"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/internet"
)

// newInternet starts a stand-in for the internet under the real host names, on loopback
// (internal/testkit/internet): an HTTPS proxy for HTTPS_PROXY whose CA the helper trusts through
// SSL_CERT_FILE, routing API hosts (cr…, cr-vpc…, sts…, sts-vpc…, kms….aliyuncs.com) to the fake
// at apiURL with the Host kept, so the fake checks the signature over the real endpoint name, and
// every other host to registries (the registries' anonymous challenges). Nothing leaves the
// machine. It stops when the test ends.
func newInternet(t *testing.T, apiURL string, registries http.Handler) *internet.Internet {
	t.Helper()
	in, err := internet.Start(t.TempDir(), apiURL, registries)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

// useInternet points e's helper at in, with the default API endpoints (no overrides).
func (e *env) useInternet(in *internet.Internet) {
	e.vars["HTTPS_PROXY"] = in.URL
	e.vars["SSL_CERT_FILE"] = in.CAFile
	delete(e.vars, "DOCKER_CREDENTIAL_ACR_CR_ENDPOINT")
	delete(e.vars, "ALIBABA_CLOUD_STS_ENDPOINT")
}
