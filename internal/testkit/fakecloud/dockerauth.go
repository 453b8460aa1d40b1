package fakecloud

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// DockerAuth is the token server behind an ACR registry's challenge realm
// (https://dockerauth[-ee][-vpc].<region>.aliyuncs.com/auth): the Docker registry token protocol
// (distribution's docs, "Token Authentication Specification"). A client that got a 401 with
//
//	Bearer realm="https://dockerauth-ee.<region>.aliyuncs.com/auth",service="registry.aliyuncs.com:<region>:<partition>:cri-…"
//
// sends GET <realm>?service=<service>&scope=repository:<name>:pull,push with Basic authentication:
// the temporary user name and the authorization token the cr API handed out. It answers
// {"token","access_token","expires_in","issued_at"} with a JWT (ES256, the signing certificate in
// the x5c header) that a distribution registry configured with
//
//	auth: {token: {realm: …, service: …, issuer: DockerAuthIssuer, rootcertbundle: <CertPEM in a file>}}
//
// verifies. It accepts exactly the logins the fake handed out (IssuedTokens) for the instance the
// service names (Personal Edition tokens for a numeric suffix), while they live: an unknown, expired
// or other instance's login gets 401, as the real realm refuses them. A request without
// credentials gets a token without any access (the registry then answers 401), as Docker token
// servers do for anonymous clients.
type DockerAuth struct {
	s        *Server
	cert     tls.Certificate
	certPEM  []byte
	lifetime time.Duration
}

// DockerAuthIssuer is the iss claim of the fake's registry tokens (the registry's issuer option).
const DockerAuthIssuer = "fakecloud dockerauth"

// NewDockerAuth makes the token server of this fake, with a fresh signing key.
func (s *Server) NewDockerAuth() (*DockerAuth, error) {
	cert, pemBytes, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	return &DockerAuth{s: s, cert: cert, certPEM: pemBytes, lifetime: 5 * time.Minute}, nil
}

// CertPEM is the certificate whose key signs the tokens: the registry's rootcertbundle.
func (d *DockerAuth) CertPEM() []byte { return append([]byte(nil), d.certPEM...) }

// Handler serves GET /auth on any host (the realm's host name is the caller's business).
func (d *DockerAuth) Handler() http.Handler {
	return http.HandlerFunc(d.serve)
}

// dockerAuthDenied is a refusal with the reason recorded in the call log (never sent: the client
// sees the registry protocol's UNAUTHORIZED).
type dockerAuthDenied string

func (d *DockerAuth) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := Call{
		Time: time.Now(), Service: "dockerauth", Action: "Auth", Style: "Anonymous", Method: r.Method,
		Path: r.URL.Path, Host: r.Host, Params: map[string]string{"service": q.Get("service"), "scope": strings.Join(q["scope"], " ")},
	}
	user, pass, hasLogin := r.BasicAuth()
	if hasLogin {
		c.Style, c.Params["account"] = "Basic", user
	}
	token, login, err := d.grant(r, q.Get("service"), q["scope"], user, pass, hasLogin)
	if login != nil {
		c.Principal, c.Params["instanceId"] = login.Principal, login.InstanceID
	}
	if err != nil {
		var denied dockerAuthDenied
		c.Status, c.ErrorCode = http.StatusUnauthorized, "UNAUTHORIZED"
		if errors.As(err, &denied) {
			c.ErrorCode = string(denied)
		} else if r.URL.Path != "/auth" || r.Method != http.MethodGet {
			c.Status, c.ErrorCode = http.StatusNotFound, "NotFound"
		}
		d.s.record(c)
		if c.Status == http.StatusNotFound {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
		return
	}
	c.Status = http.StatusOK
	d.s.record(c)
	now := time.Now()
	writeJSON(w, map[string]any{
		"token": token, "access_token": token,
		"expires_in": int(d.lifetime / time.Second), "issued_at": now.UTC().Format(time.RFC3339),
	})
}

func (dockerAuthDenied) Error() string { return "denied" }

// grant checks the login against the service and signs a token for the scopes it may have.
func (d *DockerAuth) grant(r *http.Request, service string, scopes []string, user, pass string, hasLogin bool) (string, *IssuedToken, error) {
	if r.URL.Path != "/auth" || r.Method != http.MethodGet {
		return "", nil, errors.New("not the token endpoint")
	}
	edition, instanceID, ok := parseService(service)
	if !ok {
		return "", nil, dockerAuthDenied("ServiceUnknown")
	}
	var access []map[string]any
	var login *IssuedToken
	if hasLogin {
		l, err := d.s.checkLogin(user, pass, edition, instanceID, time.Now())
		if err != nil {
			return "", l, err
		}
		login = l
		for _, sc := range scopes {
			// repository:<name>:<actions>; the name may hold '/' but never ':'.
			parts := strings.Split(sc, ":")
			if len(parts) != 3 || parts[0] != "repository" || parts[1] == "" {
				continue
			}
			var actions []string
			for _, a := range strings.Split(parts[2], ",") {
				if a == "pull" || a == "push" {
					actions = append(actions, a)
				}
			}
			if len(actions) > 0 {
				access = append(access, map[string]any{"type": "repository", "name": parts[1], "actions": actions})
			}
		}
	}
	if access == nil {
		access = []map[string]any{}
	}
	sub := ""
	if login != nil {
		sub = login.Username
	}
	now := time.Now()
	tok, err := d.sign(map[string]any{
		"iss": DockerAuthIssuer, "sub": sub, "aud": service,
		"exp": now.Add(d.lifetime).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": randAlnum(16), "access": access,
	})
	return tok, login, err
}

// parseService reads registry.aliyuncs.com:<region>:<digits> (Personal Edition) or
// registry.aliyuncs.com:<region>:<partition>:cri-<id> (an instance), as the challenge names them.
func parseService(service string) (edition, instanceID string, ok bool) {
	parts := strings.Split(service, ":")
	if len(parts) < 3 || parts[0] != "registry.aliyuncs.com" || parts[1] == "" {
		return "", "", false
	}
	if len(parts) == 3 && strings.Trim(parts[2], "0123456789") == "" && parts[2] != "" {
		return "personal", "", true
	}
	if len(parts) >= 4 && strings.HasPrefix(parts[3], "cri-") {
		return "enterprise", parts[3], true
	}
	return "", "", false
}

// checkLogin finds the token the fake handed out as this login: the same user name and token, of
// the edition and instance asked for, not expired.
func (s *Server) checkLogin(user, pass, edition, instanceID string, now time.Time) (*IssuedToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var seen, expired *IssuedToken
	for i := len(s.tokens) - 1; i >= 0; i-- {
		t := s.tokens[i]
		if t.Token != pass || t.Username != user || pass == "" {
			continue
		}
		if t.Edition != edition || t.InstanceID != instanceID {
			seen = &t
			continue
		}
		if !now.Before(t.ExpiresAt) {
			expired = &t
			continue
		}
		return &t, nil
	}
	switch {
	case expired != nil:
		return expired, dockerAuthDenied("LoginExpired")
	case seen != nil:
		return seen, dockerAuthDenied("LoginOfAnotherInstance")
	}
	return nil, dockerAuthDenied("LoginUnknown")
}

// sign makes a compact JWS (ES256) of claims with the signing certificate in x5c, which
// distribution verifies against its rootcertbundle.
func (d *DockerAuth) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]any{
		"alg": "ES256", "typ": "JWT",
		"x5c": []string{base64.StdEncoding.EncodeToString(d.cert.Certificate[0])},
	})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signed))
	key := d.cert.PrivateKey.(*ecdsa.PrivateKey)
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", err
	}
	// JWS ES256: the two integers as 32-byte big-endian each (RFC 7518 §3.4), not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc.EncodeToString(sig), nil
}
