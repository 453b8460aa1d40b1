package testkit

import (
	"bytes"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Option changes how StartFake sets the world up.
type Option func(*fakeOptions)

type fakeOptions struct {
	fixedTokens bool
	tls         bool
	edit        []func(*World)
}

// WithFixedTokens makes the fake hand out the world's fixed tokens (as the e2e registries'
// htpasswd files expect) instead of a fresh random token per call.
func WithFixedTokens() Option { return func(o *fakeOptions) { o.fixedTokens = true } }

// WithTLS also starts the fake's HTTPS listener.
func WithTLS() Option { return func(o *fakeOptions) { o.tls = true } }

// Edit changes the test's copy of the world before the fake starts.
func Edit(f func(*World)) Option { return func(o *fakeOptions) { o.edit = append(o.edit, f) } }

// StartFake starts a fake Alibaba Cloud holding the world on loopback and stops it when the test
// ends. It returns the server and the world it holds.
func StartFake(t testing.TB, opts ...Option) (*fakecloud.Server, *World) {
	t.Helper()
	var o fakeOptions
	for _, opt := range opts {
		opt(&o)
	}
	w := Load()
	if !o.fixedTokens {
		w.FixedTokens = nil
	}
	for _, f := range o.edit {
		f(w)
	}
	fc := fakecloud.New()
	if err := fc.Apply(&w.Scenario); err != nil {
		t.Fatal(err)
	}
	if err := fc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	if o.tls {
		if err := fc.StartTLS(); err != nil {
			t.Fatal(err)
		}
	}
	return fc, w
}
