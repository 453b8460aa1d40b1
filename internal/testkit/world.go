// Package testkit is the one test world of docker-credential-acr: it loads the shared fixtures
// of the top-level testdata/ directory (the fake Alibaba Cloud's accounts, users and their keys,
// roles, instances and regions in testdata/world.json; hostile inputs; docker configs), starts
// the fake (package fakecloud) with them, and scrubs the environment so that the machine's own
// credentials, proxies and directories never reach a test. Unit tests, binary tests, benchmarks
// and the shell end-to-end suite (e2e/, which reads testdata/world.json with jq) all use the
// same world.
//
// Test code only: only _test.go files import it; the product never does.
package testkit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// Root is the repository's top directory (found from this source file, so that tests of other
// modules with a replace of this one, like bench, find it too).
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testkit: cannot locate the source tree")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path names a file of the shared fixtures: Path("world.json") is <repo>/testdata/world.json.
func Path(elem ...string) string {
	return filepath.Join(append([]string{Root(), "testdata"}, elem...)...)
}

// ReadFile reads a shared fixture; a missing fixture is a broken tree, so it panics.
func ReadFile(elem ...string) []byte {
	b, err := os.ReadFile(Path(elem...))
	if err != nil {
		panic("testkit: " + err.Error())
	}
	return b
}

// ReadJSON decodes a shared fixture into v, refusing unknown fields.
func ReadJSON(v any, elem ...string) {
	dec := json.NewDecoder(bytesReader(ReadFile(elem...)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		panic(fmt.Sprintf("testkit: %s: %v", Path(elem...), err))
	}
}

// World is testdata/world.json with lookups by name. Each call of Load returns a fresh copy, so a
// test may change its World before starting a fake with it.
type World struct {
	fakecloud.Scenario
}

var loaded struct {
	once sync.Once
	raw  []byte
	err  error
}

// Load reads the world. It panics on a broken file: every test depends on it, and package-level
// fixtures (the constants of a test file) are built from it before any test runs.
func Load() *World {
	loaded.once.Do(func() { loaded.raw, loaded.err = os.ReadFile(Path("world.json")) })
	if loaded.err != nil {
		panic("testkit: " + loaded.err.Error())
	}
	dec := json.NewDecoder(bytesReader(loaded.raw))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w.Scenario); err != nil {
		panic("testkit: " + Path("world.json") + ": " + err.Error())
	}
	return &w
}

// Account is the id of the named account ("main", "partner").
func (w *World) Account(name string) string {
	for _, a := range w.Accounts {
		if a.Name == name {
			return a.ID
		}
	}
	panic("testkit: no account " + name + " in the world")
}

// User is the named user (for a root user, the name in the file).
func (w *World) User(name string) fakecloud.User {
	for _, u := range w.Users {
		if u.Name == name {
			return u
		}
	}
	panic("testkit: no user " + name + " in the world")
}

// Role is the named role.
func (w *World) Role(name string) fakecloud.Role {
	for _, r := range w.Roles {
		if r.Name == name {
			return r
		}
	}
	panic("testkit: no role " + name + " in the world")
}

// Instance is the named Enterprise Edition instance.
func (w *World) Instance(name string) fakecloud.Instance {
	for _, in := range w.Instances {
		if in.Name == name {
			return in
		}
	}
	panic("testkit: no instance " + name + " in the world")
}

// OIDCToken is the world's OIDC token registered for the named role.
func (w *World) OIDCToken(role string) fakecloud.OIDCToken {
	arn := w.Role(role).ARN()
	for _, t := range w.OIDC {
		if t.RoleARN == arn {
			return t
		}
	}
	panic("testkit: no OIDC token for role " + role + " in the world")
}

// FixedToken is the token the fake hands out for scope ("" Personal Edition, or an instance id)
// when started WithFixedTokens.
func (w *World) FixedToken(scope string) string {
	tok, ok := w.FixedTokens[scope]
	if !ok {
		panic(fmt.Sprintf("testkit: no fixed token for %q in the world", scope))
	}
	return tok
}
