package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The KMS 3.0 instance gateway of these tests: its name, as the KMS console shows it.
const kmsGateway = "kst-hzz6512345678abcdef0.cryptoservice.kms.aliyuncs.com"

// gatewayCert is a certificate for kmsGateway signed by a private CA (as Alibaba Cloud's private
// KMS CA signs the real gateways'), and that CA in PEM.
func gatewayCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test private KMS CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: kmsGateway},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{kmsGateway}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// TestSecretsKMSInstanceGateway: an entry whose secret lives behind a KMS instance gateway names
// the gateway (kmsEndpoint) and its private CA (kmsCAFile): the binary reaches it over TLS
// verified with that CA. Without the CA file the same get fails with "unknown authority" and no
// call reaches the gateway; the default shared gateway keeps working with the system roots.
func TestSecretsKMSInstanceGateway(t *testing.T) {
	e := newSecretsEnv(t)
	cert, caPEM := gatewayCert(t)
	gw := httptest.NewUnstartedServer(e.fc.RegionHandler("cn-hangzhou"))
	gw.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	gw.StartTLS()
	t.Cleanup(gw.Close)
	e.router.backends[kmsGateway+":443"] = gw.Listener.Addr().String()
	caFile := filepath.Join(t.TempDir(), "kms-instance-ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	e.config(`
registries:
  - domains: [ghcr.io]
    secret: ghcr-pull
    regionId: cn-hangzhou
    kmsEndpoint: ` + kmsGateway + `
    kmsCAFile: ` + caFile + `
  - domains: [gateway-no-ca.example.com]
    secret: ghcr-pull
    regionId: cn-hangzhou
    kmsEndpoint: ` + kmsGateway + `
  - domains: [shared.example.com]
    secret: ghcr-pull
    regionId: cn-hangzhou
`)
	// First (the login would be cached for the same secret, endpoint and identity).
	r := e.run("gateway-no-ca.example.com", "get")
	if r.code == 0 || strings.Contains(r.stdout, ghcrPW) {
		t.Fatalf("without the CA file the get worked: %+v", r)
	}
	if !strings.Contains(r.stderr, "unknown authority") || !strings.Contains(r.stderr, "kmsCAFile") {
		t.Errorf("without the CA file: want the TLS error (unknown authority) and the fix (kmsCAFile) on stderr, got %q", r.stderr)
	}
	if n := len(e.kmsCalls()); n != 0 {
		t.Errorf("%d calls reached the gateway over a connection it could not verify", n)
	}

	c, err := e.get("ghcr.io")
	if err != nil || c.Secret != ghcrPW {
		t.Fatalf("through the gateway with its CA: %+v %v; stderr %s", c, err, lastStderr())
	}
	calls := e.kmsCalls()
	if len(calls) != 1 || calls[0].Host != kmsGateway || calls[0].Status != 200 {
		t.Fatalf("calls %+v", calls)
	}

	if c, err := e.get("shared.example.com"); err != nil || c.Secret != ghcrPW {
		t.Fatalf("the shared gateway: %+v %v; stderr %s", c, err, lastStderr())
	}
	if last := e.kmsCalls()[len(e.kmsCalls())-1]; last.Host != "kms.cn-hangzhou.aliyuncs.com" {
		t.Errorf("the entry without kmsEndpoint called %s", last.Host)
	}
}
