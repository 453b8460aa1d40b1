package acr

import "strings"

// The syntax of a WWW-Authenticate field (RFC 9110 §11.6.1), which ParseChallenge reads ACR's
// Bearer challenge from.

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
