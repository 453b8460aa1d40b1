package fakecloud

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
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

// AddUser registers a RAM user (or an account root) and its AccessKey.
func (s *Server) AddUser(u User) error {
	if err := u.validate(); err != nil {
		return err
	}
	u.Deny = append([]string(nil), u.Deny...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.AccessKeyID]; ok {
		return fmt.Errorf("fakecloud: AccessKeyId %q already registered", u.AccessKeyID)
	}
	s.users[u.AccessKeyID] = &u
	return nil
}

// AddRole registers a RAM role; Role.ARN() gives the ARN to assume.
func (s *Server) AddRole(r Role) error {
	if err := r.validate(); err != nil {
		return err
	}
	r.TrustedAccounts = append([]string(nil), r.TrustedAccounts...)
	r.TrustedPrincipals = append([]string(nil), r.TrustedPrincipals...)
	r.Deny = append([]string(nil), r.Deny...)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(r.ARN())
	if _, ok := s.roles[key]; ok {
		return fmt.Errorf("fakecloud: role %s already registered", r.ARN())
	}
	s.roles[key] = &r
	return nil
}

// AddInstance registers an Enterprise Edition instance.
func (s *Server) AddInstance(in Instance) error {
	if err := in.validate(); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = "RUNNING"
	}
	if in.Specification == "" {
		in.Specification = "Enterprise_Standard"
	}
	in.Endpoints = in.endpoints()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.instances {
		if x.ID == in.ID {
			return fmt.Errorf("fakecloud: instance %s already registered", in.ID)
		}
	}
	s.instances = append(s.instances, &in)
	return nil
}

// AddOIDCToken registers a token that AssumeRoleWithOIDC accepts for (ProviderARN, RoleARN).
func (s *Server) AddOIDCToken(t OIDCToken) error {
	if t.ProviderARN == "" || t.RoleARN == "" || t.Token == "" {
		return errors.New("fakecloud: OIDC token needs ProviderARN, RoleARN and Token")
	}
	if t.Expires.IsZero() {
		if t.ExpiresInSeconds != 0 {
			t.Expires = time.Now().Add(time.Duration(t.ExpiresInSeconds) * time.Second)
		} else {
			t.Expires = time.Now().Add(time.Hour)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oidc = append(s.oidc, t)
	return nil
}

// SetECSRole attaches a registered role to the fake ECS instance behind the metadata proxy;
// "" detaches it (the role listing then answers 404). Credentials already handed out stay valid.
func (s *Server) SetECSRole(roleARN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if roleARN != "" {
		if _, ok := s.roles[strings.ToLower(roleARN)]; !ok {
			return fmt.Errorf("fakecloud: unknown role %s", roleARN)
		}
	}
	s.ecsRole = roleARN
	s.ecsSession = nil
	return nil
}

// SetECSCredentialLifetime sets how long metadata-service credentials live (default 6h). The
// metadata service hands out the same credentials until less than a quarter of that is left.
func (s *Server) SetECSCredentialLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecsDuration = d
	s.ecsSession = nil
}

// RequireIMDSv2 makes the metadata service refuse requests without a session token (403), as an
// instance with "IMDSv2 enforced" does.
func (s *Server) RequireIMDSv2(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireIMDSv2 = on
}

// SetFixedToken makes the token APIs hand out token instead of a generated one. scope is an
// instance id, "" for the Personal Edition (GET /tokens), or "*" for every scope without its own.
// An empty token removes the setting.
func (s *Server) SetFixedToken(scope, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == "" {
		delete(s.fixed, scope)
		return
	}
	s.fixed[scope] = token
}

// SetTokenLifetime sets the registry token lifetime (default 1h). Tokens requested with STS
// credentials never outlive those credentials, like the real service.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// SetLatency adds d before every answer (API and metadata service).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// OnCall registers fn to run, synchronously and before the answer is written, for every recorded
// call. Used by cmd/fakecloud to write its call log.
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCall = fn
}

// Inject queues faults for action; each matching call consumes one. action is an API action
// ("AssumeRole"), optionally qualified with its version ("GetAuthorizationToken@2016-06-07" is
// only the Personal Edition call; see ActionPersonalToken, ActionEnterpriseToken), or a metadata
// action (MetadataToken, MetadataRoleName, MetadataCredentials). A qualified queue is consulted
// before the plain one. Faults apply to calls that passed authentication.
func (s *Server) Inject(action string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], faults...)
}

// InjectPersistent applies f to every matching call (after queued faults run out) until
// ClearFaults.
func (s *Server) InjectPersistent(action string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky[action] = f
}

// ClearFaults drops queued and persistent faults of action ("" clears all).
func (s *Server) ClearFaults(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == "" {
		s.faults = map[string][]Fault{}
		s.sticky = map[string]Fault{}
		return
	}
	delete(s.faults, action)
	delete(s.sticky, action)
}

// PendingFaults reports how many queued faults of action are not used yet.
func (s *Server) PendingFaults(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[action])
}

func (s *Server) takeFault(keys ...string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if q := s.faults[k]; len(q) > 0 {
			f := q[0]
			if len(q) == 1 {
				delete(s.faults, k)
			} else {
				s.faults[k] = q[1:]
			}
			return f, true
		}
	}
	for _, k := range keys {
		if f, ok := s.sticky[k]; ok {
			return f, true
		}
	}
	return Fault{}, false
}

// IssueSTS mints STS credentials for a registered role without any trust check, expiring at
// expires (which may be in the past, to test InvalidSecurityToken.Expired).
func (s *Server) IssueSTS(roleARN, sessionName string, expires time.Time) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	role, ok := s.roles[strings.ToLower(roleARN)]
	if !ok {
		return Credentials{}, fmt.Errorf("fakecloud: unknown role %s", roleARN)
	}
	return s.newSessionLocked(role, sessionName, expires, "", "").Credentials, nil
}

func (s *Server) newSessionLocked(role *Role, name string, expires time.Time, policy, source string) *session {
	sess := &session{
		Credentials: Credentials{
			AccessKeyID:     "STS.NU" + randAlnum(26),
			AccessKeySecret: randAlnum(44),
			SecurityToken:   "CAIS" + randAlnum(300),
			Expiration:      expires.UTC().Truncate(time.Second),
			RoleARN:         role.ARN(),
			SessionName:     name,
		},
		accountID: role.AccountID,
		role:      role,
		policy:    policy,
		source:    source,
	}
	s.sessions[sess.AccessKeyID] = sess
	return sess
}

// Calls returns a copy of every recorded call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	copy(out, s.calls)
	return out
}

// Count reports how many calls matched action ("AssumeRole", or "Action@Version"), whatever
// their outcome.
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.matches(action) {
			n++
		}
	}
	return n
}

// ResetCalls forgets recorded calls and issued tokens.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.tokens = nil
}

// IssuedTokens returns every registry token handed out, oldest first.
func (s *Server) IssuedTokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IssuedToken, len(s.tokens))
	copy(out, s.tokens)
	return out
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

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := strings.ToUpper(hex.EncodeToString(b))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
