package fakecloud

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is the fake. Configure it (AddUser, AddRole, ...) before or after Start; every method is
// safe for concurrent use.
type Server struct {
	mu            sync.Mutex
	users         map[string]*User // by AccessKeyId
	roles         map[string]*Role // by lower-case ARN
	instances     []*Instance
	sessions      map[string]*session // by STS AccessKeyId
	oidc          []OIDCToken
	nonces        map[string]time.Time
	calls         []Call
	tokens        []IssuedToken
	faults        map[string][]Fault
	sticky        map[string]Fault
	fixed         map[string]string
	tokenLifetime time.Duration
	latency       time.Duration
	onCall        func(Call)
	debug         bool
	tokenKey      []byte
	kms           kmsStore             // KMS Secrets Manager (kms.go)
	wire          map[WireVariant]bool // see SetWireVariants

	ecsRole       string // role ARN attached to the fake ECS instance
	mdRegion      string // the instance's region-id ("" answers 404)
	ecsSession    *session
	ecsDuration   time.Duration
	mdTokens      map[string]time.Time
	requireIMDSv2 bool

	closing   chan struct{}
	closeOnce sync.Once
	servers   []*http.Server
	apiLn     net.Listener
	mdLn      net.Listener
	tlsLn     net.Listener
	caPEM     []byte
	wg        sync.WaitGroup
}

type session struct {
	Credentials
	accountID string
	role      *Role
	policy    string
	source    string // AccessKeyId that asked for it ("" for OIDC / ECS / IssueSTS)
}

// New returns an unstarted fake with no accounts.
func New() *Server {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Server{
		users:         map[string]*User{},
		roles:         map[string]*Role{},
		sessions:      map[string]*session{},
		nonces:        map[string]time.Time{},
		faults:        map[string][]Fault{},
		sticky:        map[string]Fault{},
		fixed:         map[string]string{},
		mdTokens:      map[string]time.Time{},
		tokenLifetime: time.Hour,
		ecsDuration:   6 * time.Hour,
		tokenKey:      key,
		closing:       make(chan struct{}),
	}
}

// Start listens on 127.0.0.1 (random ports) for the API and for the metadata proxy.
func (s *Server) Start() error { return s.Listen("127.0.0.1:0", "127.0.0.1:0") }

// Listen is Start with explicit addresses; both must be 127.0.0.1:<port> (port 0 = random).
func (s *Server) Listen(apiAddr, metadataAddr string) error {
	if s.apiLn != nil {
		return errors.New("fakecloud: already started")
	}
	for _, a := range []string{apiAddr, metadataAddr} {
		if err := checkLoopback(a); err != nil {
			return err
		}
	}
	api, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return err
	}
	md, err := net.Listen("tcp", metadataAddr)
	if err != nil {
		api.Close()
		return err
	}
	s.apiLn, s.mdLn = api, md
	s.serve(api, s.Handler())
	s.serve(md, s.MetadataProxyHandler())
	return nil
}

// StartTLS additionally serves the API over HTTPS on 127.0.0.1 with a fresh self-signed
// certificate for 127.0.0.1 and localhost (see CACertPEM), e.g. for credentials-go's STS providers,
// which only speak https.
func (s *Server) StartTLS() error {
	if s.tlsLn != nil {
		return errors.New("fakecloud: TLS already started")
	}
	cert, pemBytes, err := selfSignedCert()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.caPEM = pemBytes
	s.tlsLn = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s.serve(s.tlsLn, s.Handler())
	return nil
}

func (s *Server) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
}

// URL is http://127.0.0.1:port of the API.
func (s *Server) URL() string { return "http://" + s.Endpoint() }

// Endpoint is "127.0.0.1:port", the value for openapi.Config.Endpoint (with Protocol "http").
func (s *Server) Endpoint() string {
	if s.apiLn == nil {
		return ""
	}
	return s.apiLn.Addr().String()
}

// TLSEndpoint is "127.0.0.1:port" of the HTTPS API after StartTLS.
func (s *Server) TLSEndpoint() string {
	if s.tlsLn == nil {
		return ""
	}
	return s.tlsLn.Addr().String()
}

// CACertPEM is the PEM certificate to trust for TLSEndpoint (openapi.Config.Ca, or a file for
// SSL_CERT_FILE in a child process).
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// MetadataProxyURL is http://127.0.0.1:port of the metadata proxy: set it as HTTP_PROXY (or an
// explicit proxy) and requests for http://100.100.100.200 reach the fake metadata service.
// Requests for the fake API's own address are served too; anything else is refused.
func (s *Server) MetadataProxyURL() string {
	if s.mdLn == nil {
		return ""
	}
	return "http://" + s.mdLn.Addr().String()
}

// Close stops every listener and releases hanging requests. Safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		servers := append([]*http.Server(nil), s.servers...)
		s.mu.Unlock()
		for _, srv := range servers {
			_ = srv.Close()
		}
		s.wg.Wait()
	})
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("fakecloud: bad listen address %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("fakecloud: refusing to listen on %q: only 127.0.0.1 is allowed", addr)
	}
	return nil
}

func (s *Server) isOwnAPI(hostport string) bool {
	if s.apiLn == nil {
		return false
	}
	own := s.apiLn.Addr().String()
	if hostport == own {
		return true
	}
	_, port, _ := net.SplitHostPort(own)
	return hostport == "localhost:"+port
}
