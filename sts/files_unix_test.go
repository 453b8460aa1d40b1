//go:build unix

package sts

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 11 finding 4: a FIFO as credentials file, CLI config or OIDC token file is refused at
// once (never opened for a blocking read), and the failure names the source: the next source is
// not used in its place.
func TestFIFOsAreRefusedNotRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct {
		name, wantSource string
		opts             ChainOptions
	}{
		{"credentials file", "credentials file (" + fifo + ")", ChainOptions{Getenv: testEnv{"ALIBABA_CLOUD_CREDENTIALS_FILE": fifo}.get}},
		{"CLI config", "Alibaba Cloud CLI config (" + fifo + ")", ChainOptions{Getenv: testEnv{"ALIBABA_CLOUD_CONFIG_FILE": fifo, "ALIBABA_CLOUD_ACCESS_KEY_ID": ""}.get}},
		{"OIDC token file", "RRSA (OIDC) role acs:ram::1:role/r", ChainOptions{OIDC: &OIDC{RoleARN: "acs:ram::1:role/r", ProviderARN: "acs:ram::1:oidc-provider/p", TokenFile: fifo}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DMIDir = dir
			done := make(chan error, 1)
			go func() {
				_, err := NewChain(tc.opts).Credentials(context.Background())
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "a FIFO") || !strings.Contains(err.Error(), tc.wantSource) {
					t.Fatalf("err = %v, want a refusal naming %q and the FIFO", err, tc.wantSource)
				}
			case <-time.After(time.Minute): // a hang, not a timing margin: the answer takes microseconds
				t.Fatal("reading the FIFO hangs")
			}
		})
	}
}
