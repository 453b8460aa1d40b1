package fakecloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Scenario is the JSON form of a fake's configuration (cmd/fakecloud -scenario). The one test
// world, testdata/world.json at the top of the repository, is a Scenario; internal/testkit loads
// it for Go tests. Unknown fields are an error.
type Scenario struct {
	// Accounts name the world's accounts for the tests that read the file (accounts exist
	// implicitly in the fake); Regions are the regions the world's tests use.
	Accounts  []Account   `json:"accounts,omitempty"`
	Regions   []string    `json:"regions,omitempty"`
	Users     []User      `json:"users,omitempty"`
	Roles     []Role      `json:"roles,omitempty"`
	Instances []Instance  `json:"instances,omitempty"`
	OIDC      []OIDCToken `json:"oidcTokens,omitempty"`
	// ECSRole is the ARN of the role attached to the fake ECS instance.
	ECSRole       string `json:"ecsRole,omitempty"`
	RequireIMDSv2 bool   `json:"requireIMDSv2,omitempty"`
	// FixedTokens maps a scope ("" Personal Edition, an instance id, or "*") to a fixed token.
	FixedTokens          map[string]string `json:"fixedTokens,omitempty"`
	TokenLifetimeSeconds int               `json:"tokenLifetimeSeconds,omitempty"`
	LatencyMs            int               `json:"latencyMs,omitempty"`
	// Faults are queued per action (see Server.Inject); PersistentFaults apply to every call.
	Faults           map[string][]Fault `json:"faults,omitempty"`
	PersistentFaults map[string]Fault   `json:"persistentFaults,omitempty"`
	// WireVariants are the field-type variants the fake answers with (see SetWireVariants).
	WireVariants []WireVariant `json:"wireVariants,omitempty"`
	// Challenges are registry hosts and the /v2/ challenge each answers (cmd/fakecloud serves
	// them on its challenge listener, by Host).
	Challenges Challenges `json:"challenges,omitempty"`
}

// Account is a named Alibaba Cloud account id of a scenario.
type Account struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sc, nil
}

// Apply adds everything in sc to the server.
func (s *Server) Apply(sc *Scenario) error {
	for _, a := range sc.Accounts {
		if !reAccount.MatchString(a.ID) {
			return fmt.Errorf("fakecloud: account %q: bad id %q", a.Name, a.ID)
		}
	}
	for _, u := range sc.Users {
		if err := s.AddUser(u); err != nil {
			return err
		}
	}
	for _, r := range sc.Roles {
		if err := s.AddRole(r); err != nil {
			return err
		}
	}
	for _, in := range sc.Instances {
		if err := s.AddInstance(in); err != nil {
			return err
		}
	}
	for _, t := range sc.OIDC {
		if err := s.AddOIDCToken(t); err != nil {
			return err
		}
	}
	if sc.ECSRole != "" {
		if err := s.SetECSRole(sc.ECSRole); err != nil {
			return err
		}
	}
	s.RequireIMDSv2(sc.RequireIMDSv2)
	for scope, tok := range sc.FixedTokens {
		s.SetFixedToken(scope, tok)
	}
	if sc.TokenLifetimeSeconds > 0 {
		s.SetTokenLifetime(time.Duration(sc.TokenLifetimeSeconds) * time.Second)
	}
	if sc.LatencyMs > 0 {
		s.SetLatency(time.Duration(sc.LatencyMs) * time.Millisecond)
	}
	for action, fs := range sc.Faults {
		s.Inject(action, fs...)
	}
	for action, f := range sc.PersistentFaults {
		s.InjectPersistent(action, f)
	}
	if err := s.SetWireVariants(sc.WireVariants...); err != nil {
		return err
	}
	for host, c := range sc.Challenges {
		if err := c.validate(); err != nil {
			return fmt.Errorf("fakecloud: challenge of %s: %w", host, err)
		}
	}
	return nil
}
