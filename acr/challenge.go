package acr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Challenge is what an ACR registry's anonymous /v2/ challenge says about the instance behind a host.
type Challenge struct {
	Region     string
	InstanceID string // Enterprise Edition instance id ("cri-…"); "" for Personal Edition
	Personal   bool
}

// errNotACRChallenge means a WWW-Authenticate header value is not an ACR registry challenge.
var errNotACRChallenge = errors.New("not an Alibaba Cloud Container Registry challenge")

const (
	maxChallengeLen = 8 << 10
	servicePrefix   = "registry.aliyuncs.com:"
)

func notChallenge(reason string) error {
	return fmt.Errorf("%w: %s", errNotACRChallenge, reason)
}

// ParseChallenge parses the value of a WWW-Authenticate header as sent by ACR on an anonymous GET /v2/:
//
//	Bearer realm="https://dockerauth.<region>.aliyuncs.com/auth",service="registry.aliyuncs.com:<region>:<suffix>"
//
// The header may hold several challenges (RFC 9110 §11.6.1); exactly one must use the Bearer scheme (any
// case). Its parameters may come in any order, quoted or not, with extra parameters. The realm must be an
// https URL on exactly dockerauth.<region>.aliyuncs.com or dockerauth-vpc.<region>.aliyuncs.com (no port,
// no userinfo, no query); the service must be "registry.aliyuncs.com:<region>:<suffix>" with the same
// region, where the suffix is a number (Personal Edition) or "<partition>:cri-<16 alphanumerics>"
// (Enterprise Edition, partition "china" seen). Anything else is an error wrapping errNotACRChallenge.
// Headers longer than 8 KiB are rejected.
func ParseChallenge(header string) (Challenge, error) {
	if len(header) > maxChallengeLen {
		return Challenge{}, notChallenge("header longer than 8 KiB")
	}
	challenges, err := parseAuthenticate(header)
	if err != nil {
		return Challenge{}, err
	}
	var bearer map[string]string
	for _, c := range challenges {
		if !strings.EqualFold(c.scheme, "bearer") {
			continue
		}
		if bearer != nil {
			return Challenge{}, notChallenge("more than one Bearer challenge")
		}
		bearer = c.params
	}
	if bearer == nil {
		return Challenge{}, notChallenge("no Bearer challenge")
	}
	realm, ok := bearer["realm"]
	if !ok {
		return Challenge{}, notChallenge("missing realm")
	}
	service, ok := bearer["service"]
	if !ok {
		return Challenge{}, notChallenge("missing service")
	}

	realmRegion, err := realmRegion(realm)
	if err != nil {
		return Challenge{}, err
	}

	rest, ok := strings.CutPrefix(service, servicePrefix)
	if !ok {
		return Challenge{}, notChallenge("service is not registry.aliyuncs.com")
	}
	region, suffix, ok := strings.Cut(rest, ":")
	if !ok || !ValidRegion(region) {
		return Challenge{}, notChallenge("service has no valid region")
	}
	if region != realmRegion {
		return Challenge{}, notChallenge("realm and service name different regions")
	}
	if isDigits(suffix) && len(suffix) <= 20 {
		return Challenge{Region: region, Personal: true}, nil
	}
	partition, id, ok := strings.Cut(suffix, ":")
	if !ok || !isAlnum(partition) || len(partition) > 32 || !isEnterpriseID(id) {
		return Challenge{}, notChallenge("service suffix is neither a Personal nor an Enterprise instance")
	}
	return Challenge{Region: region, InstanceID: id}, nil
}

// ReadChallenge asks url (https://<host>/v2/) anonymously for its challenge: GET without credentials,
// redirects not followed (whatever client's CheckRedirect says; nil client is a zero http.Client). The
// body is never read, only closed, so a registry that sends a huge or a trickling body cannot hold the
// caller. The answer must be 401; its first WWW-Authenticate value is returned as header, also when
// ParseChallenge rejects it, so that callers can show what the registry said. The deadline is ctx's
// and the client's.
func ReadChallenge(ctx context.Context, client *http.Client, url string) (ch Challenge, header string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Challenge{}, "", err
	}
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return Challenge{}, "", fmt.Errorf("GET %s: %v", url, errors.Unwrap(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return Challenge{}, "", fmt.Errorf("GET %s answered %d, not 401", url, resp.StatusCode)
	}
	header = resp.Header.Get("Www-Authenticate")
	ch, err = ParseChallenge(header)
	return ch, header, err
}

// isEnterpriseID matches cri- followed by 16 ASCII letters or digits.
func isEnterpriseID(s string) bool {
	id, ok := strings.CutPrefix(s, "cri-")
	if !ok || len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// realmRegion checks that realm is https://dockerauth[-vpc].<region>.aliyuncs.com[/path] and returns the region.
func realmRegion(realm string) (string, error) {
	if len(realm) < len("https://") || !strings.EqualFold(realm[:len("https://")], "https://") {
		return "", notChallenge("realm is not an https URL")
	}
	if strings.ContainsAny(realm, " \t\r\n\v\f") {
		return "", notChallenge("whitespace in realm")
	}
	h, err := parseServerURL(realm)
	if err != nil {
		return "", notChallenge("realm is not a valid URL")
	}
	if h.IP || h.Key() != h.Hostname { // no port other than 443
		return "", notChallenge("realm host is not dockerauth")
	}
	rest, ok := strings.CutSuffix(h.Hostname, aliyunSuffix)
	if !ok {
		return "", notChallenge("realm host is not dockerauth")
	}
	first, region, ok := strings.Cut(rest, ".")
	if !ok || (first != "dockerauth" && first != "dockerauth-vpc") || !ValidRegion(region) {
		return "", notChallenge("realm host is not dockerauth")
	}
	return region, nil
}

type authChallenge struct {
	scheme string
	params map[string]string // lower-case names
}

// parseAuthenticate parses a WWW-Authenticate field value:
//
//	challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param = token BWS "=" BWS ( token / quoted-string )
//
// Challenges and parameters are separated by commas; empty list elements are allowed.
func parseAuthenticate(s string) ([]authChallenge, error) {
	p := &authParser{s: s}
	var out []authChallenge
	for {
		p.skipListSeparators()
		if p.eof() {
			break
		}
		scheme := p.token()
		if scheme == "" {
			return nil, notChallenge("malformed WWW-Authenticate: expected auth scheme")
		}
		c := authChallenge{scheme: scheme, params: map[string]string{}}
		if p.eof() || p.peek() == ',' {
			out = append(out, c)
			continue
		}
		if p.peek() != ' ' && p.peek() != '\t' {
			return nil, notChallenge("malformed WWW-Authenticate: bad character after auth scheme")
		}
		p.skipOWS()
		if p.eof() || p.peek() == ',' {
			out = append(out, c)
			continue
		}
		if !p.atParam() {
			// token68
			if !p.token68() {
				return nil, notChallenge("malformed WWW-Authenticate: bad credentials after auth scheme")
			}
			p.skipOWS()
			if !p.eof() && p.peek() != ',' {
				return nil, notChallenge("malformed WWW-Authenticate: garbage after token68")
			}
			out = append(out, c)
			continue
		}
		for {
			name := strings.ToLower(p.token())
			p.skipOWS()
			p.pos++ // '=', guaranteed by atParam
			p.skipOWS()
			var value string
			if !p.eof() && p.peek() == '"' {
				v, err := p.quoted()
				if err != nil {
					return nil, err
				}
				value = v
			} else {
				value = p.token()
				if value == "" {
					return nil, notChallenge("malformed WWW-Authenticate: empty parameter value")
				}
			}
			if _, dup := c.params[name]; dup {
				return nil, notChallenge("malformed WWW-Authenticate: duplicate parameter")
			}
			c.params[name] = value
			p.skipOWS()
			if p.eof() {
				break
			}
			if p.peek() != ',' {
				return nil, notChallenge("malformed WWW-Authenticate: expected ','")
			}
			p.skipListSeparators()
			if p.eof() || !p.atParam() {
				break // next challenge (or end)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, notChallenge("empty WWW-Authenticate")
	}
	return out, nil
}

type authParser struct {
	s   string
	pos int
}

func (p *authParser) eof() bool  { return p.pos >= len(p.s) }
func (p *authParser) peek() byte { return p.s[p.pos] }

func (p *authParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
}

func (p *authParser) skipListSeparators() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.pos++
	}
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *authParser) token() string {
	start := p.pos
	for !p.eof() && isTchar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// atParam reports, without consuming, whether an auth-param (token BWS "=") starts here.
func (p *authParser) atParam() bool {
	save := p.pos
	defer func() { p.pos = save }()
	if p.token() == "" {
		return false
	}
	p.skipOWS()
	if p.eof() || p.peek() != '=' {
		return false
	}
	// A value must follow: "abc=" and "abc==" are token68, not parameters.
	p.pos++
	p.skipOWS()
	return !p.eof() && (p.peek() == '"' || isTchar(p.peek()))
}

// token68 consumes 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func (p *authParser) token68() bool {
	start := p.pos
	for !p.eof() {
		c := p.peek()
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return false
	}
	for !p.eof() && p.peek() == '=' {
		p.pos++
	}
	return true
}

// quoted consumes a quoted-string starting at '"' and returns its unescaped value.
func (p *authParser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.pos++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.eof() {
				return "", notChallenge("malformed WWW-Authenticate: unterminated quoted string")
			}
			c = p.peek()
			p.pos++
			if c < ' ' && c != '\t' || c == 0x7f {
				return "", notChallenge("malformed WWW-Authenticate: control character in quoted string")
			}
			b.WriteByte(c)
		case c < ' ' && c != '\t' || c == 0x7f:
			return "", notChallenge("malformed WWW-Authenticate: control character in quoted string")
		default:
			b.WriteByte(c)
		}
	}
	return "", notChallenge("malformed WWW-Authenticate: unterminated quoted string")
}
