package fakecloud

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

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

// SetMetadataRegion sets the region the metadata service names as the instance's (region-id).
func (s *Server) SetMetadataRegion(region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mdRegion = region
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
