//go:build unix

package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 11 finding 4 (credential files): a FIFO as the credentials file, the CLI config or the
// OIDC token file gets a prompt answer naming the file, within DOCKER_CREDENTIAL_ACR_TIMEOUT, and
// no token of another identity.
func TestChainFIFOFilesDoNotHang(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars func(e *env, fifo string)
	}{
		{"credentials file", func(e *env, fifo string) { e.vars["ALIBABA_CLOUD_CREDENTIALS_FILE"] = fifo }},
		{"CLI config", func(e *env, fifo string) { e.vars["ALIBABA_CLOUD_CONFIG_FILE"] = fifo }},
		{"OIDC token file", func(e *env, fifo string) {
			e.vars["ALIBABA_CLOUD_ROLE_ARN"] = rrsaRole
			e.vars["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"] = rrsaProvider
			e.vars["ALIBABA_CLOUD_OIDC_TOKEN_FILE"] = fifo
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
			delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			if tc.name != "credentials file" {
				// A later source whose user could answer if the FIFO were skipped.
				e.writeFile(".alibabacloud/credentials", "[default]\ntype = access_key\naccess_key_id = "+ak+"\naccess_key_secret = "+sk+"\n")
			}
			fifo := filepath.Join(e.home, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			tc.vars(e, fifo)
			e.vars["DOCKER_CREDENTIAL_ACR_TIMEOUT"] = "2s"
			// The bound below only stops a hang from hanging the suite: the answer takes milliseconds.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, helperBin, "get")
			cmd.Env = e.environ()
			cmd.Stdin = strings.NewReader("registry.cn-hangzhou.aliyuncs.com")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			t0 := time.Now()
			err := cmd.Run()
			took := time.Since(t0)
			if ctx.Err() != nil {
				t.Fatalf("the helper hung on a FIFO (killed after %v)", took.Round(time.Second))
			}
			if err == nil || strings.TrimSpace(stdout.String()) != notFound || !strings.Contains(stderr.String(), "a FIFO") || !strings.Contains(stderr.String(), fifo) {
				t.Errorf("exit %v, stdout %q, stderr %q: want not found and a message naming the FIFO", err, stdout.String(), stderr.String())
			}
			if n := len(e.fc.IssuedTokens()); n != 0 {
				t.Errorf("%d tokens issued", n)
			}
			t.Logf("FIFO as %s: answered in %v", tc.name, took.Round(time.Millisecond))
		})
	}
}
