package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// internet stands in for the internet under the real host names, on loopback: an HTTPS proxy
// (HTTPS_PROXY) that accepts CONNECT to any name, terminates TLS with a certificate for that name
// from a test CA (trusted by the helper through SSL_CERT_FILE) and routes each request by its Host:
// API hosts (cr…, cr-vpc…, sts…, sts-vpc….aliyuncs.com) to the fake cloud with the Host kept, so
// the fake checks the signature over the real endpoint name and records it; every other host to
// registries (the registries' anonymous challenges). Nothing leaves the machine.
type internet struct {
	URL    string // the proxy, for HTTPS_PROXY
	CAFile string // the CA, for SSL_CERT_FILE

	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	api     http.Handler
	conns   chan net.Conn
	mu      sync.Mutex
	certs   map[string]*tls.Certificate
	targets []string
	regs    http.Handler
	ln      *chanListener
}

// newInternet starts it, routing API hosts to the fake at apiURL and others to registries.
func newInternet(t *testing.T, apiURL string, registries http.Handler) *internet {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fidelity test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(apiURL)
	in := &internet{CAFile: caFile, ca: ca, caKey: key, conns: make(chan net.Conn), certs: map[string]*tls.Certificate{},
		api: httputil.NewSingleHostReverseProxy(target), regs: registries}
	inner := &http.Server{Handler: http.HandlerFunc(in.route), ReadHeaderTimeout: 10 * time.Second}
	ln := &chanListener{conns: in.conns, done: make(chan struct{})}
	in.ln = ln
	go inner.Serve(ln)
	proxy := httptest.NewServer(http.HandlerFunc(in.connect))
	in.URL = proxy.URL
	t.Cleanup(func() { ln.Close(); inner.Close(); proxy.Close() })
	return in
}

// Targets are the CONNECT targets asked for so far.
func (in *internet) Targets() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.targets...)
}

func (in *internet) connect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	in.mu.Lock()
	in.targets = append(in.targets, r.Host)
	in.mu.Unlock()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	select {
	case in.conns <- tls.Server(conn, &tls.Config{GetCertificate: in.cert, MinVersion: tls.VersionTLS12}):
	case <-in.ln.done:
		conn.Close()
	}
}

func (in *internet) cert(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return nil, errors.New("no SNI")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.certs[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, in.ca, &key.PublicKey, in.caKey)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	in.certs[name] = c
	return c, nil
}

// isAPIHost reports whether host names an Alibaba Cloud API endpoint the helper calls.
func isAPIHost(host string) bool {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "sts.aliyuncs.com" {
		return true
	}
	for _, p := range []string{"cr.", "cr-vpc.", "sts.", "sts-vpc."} {
		if strings.HasPrefix(host, p) && strings.HasSuffix(host, ".aliyuncs.com") {
			return true
		}
	}
	return false
}

func (in *internet) route(w http.ResponseWriter, r *http.Request) {
	if isAPIHost(r.Host) {
		in.api.ServeHTTP(w, r) // the Host header is kept: NewSingleHostReverseProxy rewrites only the URL
		return
	}
	in.regs.ServeHTTP(w, r)
}

// chanListener is a net.Listener fed with the connections the proxy took over.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// useInternet points e's helper at in, with the default API endpoints (no overrides).
func (e *env) useInternet(in *internet) {
	e.vars["HTTPS_PROXY"] = in.URL
	e.vars["SSL_CERT_FILE"] = in.CAFile
	delete(e.vars, "DOCKER_CREDENTIAL_ACR_CR_ENDPOINT")
	delete(e.vars, "ALIBABA_CLOUD_STS_ENDPOINT")
}
