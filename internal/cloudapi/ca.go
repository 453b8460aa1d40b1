package cloudapi

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync"
)

// An endpoint with its own certificate authority: a KMS 3.0 instance gateway
// (<kms-instance-id>.cryptoservice.kms.aliyuncs.com) serves a certificate from Alibaba Cloud's
// private KMS CA, which no system trust store holds. Such an endpoint trusts exactly the CA the
// configuration names (Endpoint.RootCAs), not the system roots besides; every other endpoint keeps
// the system roots.

// caClients are the HTTP clients of endpoints with their own CA, one per pool: built once, they keep
// their connections like the shared client does.
var caClients sync.Map // *x509.CertPool → *http.Client

// clientFor is the HTTP client of an endpoint: the shared one, or one that trusts only pool.
func clientFor(pool *x509.CertPool) *http.Client {
	if pool == nil {
		return sharedClient
	}
	if c, ok := caClients.Load(pool); ok {
		return c.(*http.Client)
	}
	t := sharedClient.Transport.(boundedTransport).base.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	c := *sharedClient
	c.Transport = boundedTransport{t}
	actual, _ := caClients.LoadOrStore(pool, &c)
	return actual.(*http.Client)
}
