package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// caPEM is a fresh self-signed CA certificate in PEM.
func caPEM(t *testing.T, name string) ([]byte, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert
}

// TestKMSCAFile: endpoints.kmsCAFile and an entry's kmsEndpoint + kmsCAFile name the CA of a KMS
// instance gateway. The file is read and checked when the config is loaded; the CA belongs to its
// endpoint override and nothing else.
func TestKMSCAFile(t *testing.T) {
	dir := t.TempDir()
	good, cert := caPEM(t, "test KMS private CA")
	caFile := filepath.Join(dir, "kms-ca.pem")
	if err := os.WriteFile(caFile, good, 0o644); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	_ = os.WriteFile(notPEM, []byte("hello\n"), 0o644)
	badCert := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(badCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")}), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const gw = "kst-hzz65f1c8d1a2b3c4.cryptoservice.kms.aliyuncs.com"
	trusts := func(t *testing.T, ca *CAFile) {
		t.Helper()
		if ca == nil || ca.Path != caFile {
			t.Fatalf("CA %+v", ca)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool}); err != nil {
			t.Errorf("the pool does not hold the file's CA: %v", err)
		}
	}
	secretEntry := "registries:\n  - domains: [ghcr.io]\n    secret: ghcr-pull\n    regionId: cn-hangzhou\n"
	tests := []struct {
		name, body, wantErr string
		check               func(t *testing.T, c *Config)
	}{
		{name: "global", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + caFile + "\n" + secretEntry, check: func(t *testing.T, c *Config) {
			o, ca := c.KMSEndpoint(c.Registries[0].Secret)
			if o != gw {
				t.Errorf("override %q", o)
			}
			trusts(t, ca)
		}},
		{name: "per entry", body: secretEntry + "    kmsEndpoint: " + gw + "\n    kmsCAFile: " + caFile + "\n  - domains: [quay.io]\n    secret: quay\n    regionId: cn-hangzhou\n",
			check: func(t *testing.T, c *Config) {
				o, ca := c.KMSEndpoint(c.Registries[0].Secret)
				if o != gw {
					t.Errorf("override %q", o)
				}
				trusts(t, ca)
				// The other entry keeps the default endpoint and the system roots.
				if o, ca := c.KMSEndpoint(c.Registries[1].Secret); o != "" || ca != nil {
					t.Errorf("other entry: %q %+v", o, ca)
				}
			}},
		{name: "per entry endpoint without a CA", body: secretEntry + "    kmsEndpoint: " + gw + "\n", check: func(t *testing.T, c *Config) {
			if o, ca := c.KMSEndpoint(c.Registries[0].Secret); o != gw || ca != nil {
				t.Errorf("%q %+v", o, ca)
			}
		}},
		{name: "no file: the default shared gateway, system roots", body: secretEntry, check: func(t *testing.T, c *Config) {
			if o, ca := c.KMSEndpoint(c.Registries[0].Secret); o != "" || ca != nil {
				t.Errorf("%q %+v", o, ca)
			}
		}},
		{name: "global CA without endpoints.kms", body: "endpoints:\n  kmsCAFile: " + caFile + "\n", wantErr: "endpoints.kmsCAFile: is the CA of a KMS endpoint override"},
		{name: "entry CA without kmsEndpoint", body: secretEntry + "    kmsCAFile: " + caFile + "\n", wantErr: "kmsCAFile: is the CA of the entry's kmsEndpoint"},
		{name: "entry CA without secret", body: "registries:\n  - domains: [r.example.com]\n    instanceId: cri-abcdefgh12345678\n    regionId: cn-hangzhou\n    kmsCAFile: " + caFile + "\n", wantErr: "remove kmsCAFile"},
		{name: "entry endpoint without secret", body: "registries:\n  - domains: [r.example.com]\n    instanceId: cri-abcdefgh12345678\n    regionId: cn-hangzhou\n    kmsEndpoint: " + gw + "\n", wantErr: "remove kmsEndpoint"},
		{name: "entry endpoint plain http", body: secretEntry + "    kmsEndpoint: http://" + gw + "\n", wantErr: "plain http"},
		{name: "relative path", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: kms-ca.pem\n", wantErr: "not an absolute path"},
		{name: "missing file", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + caFile + ".missing\n", wantErr: "does not exist"},
		{name: "not PEM", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + notPEM + "\n", wantErr: "holds no PEM certificate"},
		{name: "bad certificate", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + badCert + "\n", wantErr: "does not parse"},
		{name: "a FIFO is refused at once", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + fifo + "\n", wantErr: "not a regular file"},
		{name: "a directory", body: "endpoints:\n  kms: " + gw + "\n  kmsCAFile: " + dir + "\n", wantErr: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFile(write(t, tt.body), env(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), ".yaml:") {
					t.Errorf("error %q does not name the file and line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
