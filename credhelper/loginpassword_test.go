package credhelper

import (
	"bytes"
	"strings"
	"testing"
)

func TestGetLoginPassword(t *testing.T) {
	t.Parallel()
	const host = "registry.cn-hangzhou.aliyuncs.com"
	tests := []struct {
		name       string
		ak, sk     string
		args       []string
		code       int
		wantStdout string // "token" = the issued password + "\n"; "-" = empty
		wantStderr string // substring
	}{
		{name: "password on stdout, user on stderr", ak: devAK, sk: devSK, args: []string{host}, wantStdout: "token", wantStderr: "Username: cr_temp_user"},
		{name: "--username", ak: devAK, sk: devSK, args: []string{"--username", host}, wantStdout: "cr_temp_user\n"},
		{name: "no credentials", args: []string{host}, code: 1, wantStdout: "-", wantStderr: "no Alibaba Cloud credentials found for " + host},
		{name: "not an ACR host", ak: devAK, sk: devSK, args: []string{"ghcr.io"}, code: 1, wantStdout: "-", wantStderr: "no Alibaba Cloud ACR login for ghcr.io (run `docker-credential-acr doctor ghcr.io`"},
		{name: "token failure", ak: noPwAK, sk: noPwSK, args: []string{host}, code: 1, wantStdout: "-", wantStderr: "USER_NOT_EXIST"},
		{name: "no host", ak: devAK, sk: devSK, code: 2, wantStdout: "-", wantStderr: "Usage: docker-credential-acr get-login-password"},
		{name: "two hosts", ak: devAK, sk: devSK, args: []string{host, host}, code: 2, wantStdout: "-", wantStderr: "Usage:"},
		{name: "bad flag", ak: devAK, sk: devSK, args: []string{"--nope", host}, code: 2, wantStdout: "-", wantStderr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tt.ak != "" {
				w.useAK(t, tt.ak, tt.sk)
			}
			k := w.keychain(t)
			var stdout, stderr bytes.Buffer
			code := getLoginPassword(ctx(t), k, tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, stdout.String(), stderr.String())
			}
			switch tt.wantStdout {
			case "token":
				if stdout.String() != w.lastToken(t).Token+"\n" {
					t.Errorf("stdout %q is not the issued password and a newline", stdout.String())
				}
			case "-":
				if stdout.Len() != 0 {
					t.Errorf("stdout %q, want nothing", stdout.String())
				}
			default:
				if stdout.String() != tt.wantStdout {
					t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStdout == "token" && strings.Contains(stderr.String(), w.lastToken(t).Token) {
				t.Error("the password is on stderr")
			}
		})
	}
}
