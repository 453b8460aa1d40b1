package fakecloud

import (
	"strings"
	"time"
)

// Action names accepted by Inject and Count besides the plain API action names.
const (
	// ActionPersonalToken is the Personal Edition GET /tokens (cr 2016-06-07).
	ActionPersonalToken = "GetAuthorizationToken@2016-06-07"
	// ActionEnterpriseToken is cr 2018-12-01 GetAuthorizationToken.
	ActionEnterpriseToken = "GetAuthorizationToken@2018-12-01"
	// Metadata service calls.
	MetadataToken       = "MetadataToken"       // PUT /latest/api/token
	MetadataRoleName    = "MetadataRoleName"    // GET /latest/meta-data/ram/security-credentials/
	MetadataCredentials = "MetadataCredentials" // GET /latest/meta-data/ram/security-credentials/<role>
	MetadataRegionID    = "MetadataRegionID"    // GET /latest/meta-data/region-id
)

// Call is one recorded request.
type Call struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"` // "cr", "sts", "ecs-metadata", or "" when not recognised
	Action  string    `json:"action"`
	Version string    `json:"version,omitempty"`
	// Style is how the call was authenticated: "ACS3" (ACS3-HMAC-SHA256), "RPC-HMAC-SHA1"
	// (legacy signature in the query), "Anonymous", or "Metadata".
	Style  string `json:"style"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Host is the Host header the client sent.
	Host string `json:"host"`
	// AccessKeyID is the key that signed the call (empty for anonymous calls); Principal is the
	// ARN it resolved to (assumed-role ARN for STS keys), empty when authentication failed early.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	Principal   string `json:"principal,omitempty"`
	// Params are the query parameters, plus form-body parameters when the body was a form.
	Params    map[string]string `json:"params,omitempty"`
	Status    int               `json:"status"` // 0 for reset / hang
	ErrorCode string            `json:"errorCode,omitempty"`
	Fault     FaultKind         `json:"fault,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

func (c Call) matches(action string) bool {
	if a, v, ok := strings.Cut(action, "@"); ok {
		return c.Action == a && c.Version == v
	}
	return c.Action == action
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	fn := s.onCall
	s.mu.Unlock()
	if fn != nil {
		fn(c)
	}
}

// OnCall registers fn to run, synchronously and before the answer is written, for every recorded
// call. Used by cmd/fakecloud to write its call log.
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCall = fn
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
