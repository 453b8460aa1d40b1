package kms_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// testCA is a certificate authority made for one test, like Alibaba Cloud's private KMS CA that
// signs the certificates of KMS instance gateways.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serverCert is a leaf for 127.0.0.1 signed by the CA (not a CA itself).
func (ca *testCA) serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kst-test.cryptoservice.kms.aliyuncs.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestInstanceGatewayCA: a KMS instance gateway's certificate is signed by a private CA. Reaching
// it fails with "unknown authority" on the system roots, works with the CA named for that
// endpoint, and fails again with another CA: the named CA is the only one trusted there.
func TestInstanceGatewayCA(t *testing.T) {
	w := newWorld(t)
	ca := newTestCA(t, "test KMS private CA")
	gw := httptest.NewUnstartedServer(w.fc.RegionHandler("cn-hangzhou"))
	gw.TLS = &tls.Config{Certificates: []tls.Certificate{ca.serverCert(t)}, MinVersion: tls.VersionTLS12}
	gw.StartTLS()
	defer gw.Close()

	ctx := context.Background()
	call := func(t *testing.T, pool *x509.CertPool) (secrets.Login, error) {
		t.Helper()
		c := w.client(t, gw.URL, "cn-hangzhou", w.user()) // https://127.0.0.1:port
		c.Endpoint.RootCAs = pool
		return c.Login(ctx, ref(t, "ghcr-pull", "cn-hangzhou"), "")
	}
	before := w.fc.Count("GetSecretValue")
	if _, err := call(t, nil); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("system roots: want an unknown authority error, got %v", err)
	}
	if _, err := call(t, newTestCA(t, "another CA").pool()); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("another CA: want an unknown authority error, got %v", err)
	}
	if n := w.fc.Count("GetSecretValue"); n != before {
		t.Fatalf("%d calls reached the gateway over an untrusted connection", n-before)
	}
	l, err := call(t, ca.pool())
	if err != nil || l.Password != ghcrPW {
		t.Fatalf("with the gateway's CA: %v %v", l.Username, err)
	}
}
