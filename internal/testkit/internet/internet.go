// Package internet stands in for the internet under the real host names, on loopback: an HTTPS
// proxy (for HTTPS_PROXY) that accepts CONNECT to any name, terminates TLS with a certificate for
// that name from a CA of its own (trusted by the helper through SSL_CERT_FILE) and routes each
// request by its Host: Alibaba Cloud API hosts (cr…, cr-vpc…, sts…, sts-vpc…, kms….aliyuncs.com)
// to the fake cloud, with the Host kept so that the fake checks the signature over the real
// endpoint name; every other host to the registries handler. Nothing leaves the machine: no name
// is resolved and no connection is made but to the handlers.
//
// The demo (go run -tags fakecloud ./demo) uses it to let `doctor --online` read a registry's
// anonymous challenge from a stand-in registry.
package internet

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
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Internet is the running stand-in.
type Internet struct {
	URL    string // the proxy, for HTTPS_PROXY
	CAFile string // the CA certificate (PEM), for SSL_CERT_FILE

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	api   http.Handler
	regs  http.Handler
	conns chan net.Conn
	ln    *chanListener
	inner *http.Server
	proxy *http.Server

	mu      sync.Mutex
	certs   map[string]*tls.Certificate
	targets []string
}

// Start starts it: API hosts go to the fake at apiURL (none when apiURL is ""), other hosts to
// registries. The CA certificate is written into dir.
func Start(dir, apiURL string, registries http.Handler) (*Internet, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "docker-credential-acr stand-in internet CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "stand-in-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	in := &Internet{CAFile: caFile, ca: ca, caKey: key, regs: registries, conns: make(chan net.Conn), certs: map[string]*tls.Certificate{}}
	in.api = http.NotFoundHandler()
	if apiURL != "" {
		target, err := url.Parse(apiURL)
		if err != nil {
			return nil, err
		}
		in.api = httputil.NewSingleHostReverseProxy(target)
	}
	in.ln = &chanListener{conns: in.conns, done: make(chan struct{})}
	in.inner = &http.Server{Handler: http.HandlerFunc(in.route), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.inner.Serve(in.ln) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		in.ln.Close()
		in.inner.Close()
		return nil, err
	}
	in.proxy = &http.Server{Handler: http.HandlerFunc(in.connect), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.proxy.Serve(ln) }()
	in.URL = "http://" + ln.Addr().String()
	return in, nil
}

// Close stops it.
func (in *Internet) Close() {
	in.ln.Close()
	in.inner.Close()
	in.proxy.Close()
}

// Targets are the CONNECT targets asked for so far.
func (in *Internet) Targets() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.targets...)
}

func (in *Internet) connect(w http.ResponseWriter, r *http.Request) {
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

func (in *Internet) cert(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
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
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
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

// IsAPIHost reports whether host names an Alibaba Cloud API endpoint the helper calls.
func IsAPIHost(host string) bool {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "sts.aliyuncs.com" {
		return true
	}
	for _, p := range []string{"cr.", "cr-vpc.", "sts.", "sts-vpc.", "kms.", "kms-vpc."} {
		if strings.HasPrefix(host, p) && strings.HasSuffix(host, ".aliyuncs.com") {
			return true
		}
	}
	return false
}

func (in *Internet) route(w http.ResponseWriter, r *http.Request) {
	if IsAPIHost(r.Host) {
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
