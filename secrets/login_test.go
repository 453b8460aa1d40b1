package secrets

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

const pw = "pw-SECRET-7f3a"

func TestDecodeLogin(t *testing.T) {
	tests := []struct {
		name, value string
		user        string // "" when an error is wanted
		errHas      string
	}{
		{"seed shape", `{"username":"octocat","password":"` + pw + `"}`, "octocat", ""},
		{"any letter case", `{"UserName":"root","PASSWORD":"` + pw + `"}`, "root", ""},
		{"extra keys are fine", `{"username":"u","password":"` + pw + `","registry":"ghcr.io","ttl":3600}`, "u", ""},
		{"unicode password", `{"username":"u","password":"\u00e9` + pw + `"}`, "u", ""},
		{"not JSON", pw, "", "not a JSON object"},
		{"JSON string", `"` + pw + `"`, "", "not a JSON object"},
		{"JSON array", `["u","` + pw + `"]`, "", "not a JSON object"},
		{"null", `null`, "", "not a JSON object"},
		{"truncated", `{"username":"u","password":"` + pw, "", "not a JSON object"},
		{"no password", `{"username":"u","passwd":"` + pw + `"}`, "", `no "password" key`},
		{"no username", `{"user":"u","password":"` + pw + `"}`, "", `no "username" key`},
		{"password a number", `{"username":"u","password":12345}`, "", `"password" key is not a JSON string`},
		{"empty password", `{"username":"u","password":""}`, "", `"password" key is empty`},
		{"two usernames", `{"username":"a","Username":"b","password":"` + pw + `"}`, "", `2 "username" keys`},
		{"colon in username", `{"username":"a:b","password":"` + pw + `"}`, "", `holds a ':'`},
		{"newline in password", `{"username":"a","password":"` + pw + `\n"}`, "", `line break`},
		{"ESC in username", `{"username":"bob\u001b]0;pwned\u0007","password":"` + pw + `"}`, "", `control characters`},
		{"8-bit CSI in username", `{"username":"bob\u009b2J","password":"` + pw + `"}`, "", `control characters`},
		{"bidi override in username", `{"username":"\u202ebob","password":"` + pw + `"}`, "", `control characters`},
		{"unicode username", `{"username":"j\u00fcrgen","password":"` + pw + `"}`, "j\u00fcrgen", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p, err := DecodeLogin(tt.value)
			if tt.user != "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if u != tt.user || !strings.Contains(p, pw) {
					t.Fatalf("got user %q", u)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !isBadValue(err) || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q, want %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q echoes the value", err)
			}
		})
	}
}

func TestLoginNeverPrintsPassword(t *testing.T) {
	l := Login{Username: "octocat", Password: pw, VersionID: "v2", Stages: []string{"ACSCurrent"}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("got", "login", l)
	for _, s := range []string{fmt.Sprint(l), fmt.Sprintf("%v %+v %#v %s", l, l, l, l), logged.String()} {
		if strings.Contains(s, pw) {
			t.Errorf("%q shows the password", s)
		}
		if !strings.Contains(s, "octocat") {
			t.Errorf("%q does not name the user", s)
		}
	}
}

func TestErrorText(t *testing.T) {
	bare, _ := ParseRef("ghcr-pull", "cn-hangzhou")
	arn, _ := ParseRef("acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull", "")
	tests := []struct {
		err  *Error
		want []string
	}{
		{&Error{Kind: NotFound, Ref: bare, Stage: "ACSCurrent", Endpoint: "https://kms.cn-hangzhou.aliyuncs.com"},
			[]string{"ghcr-pull (cn-hangzhou) not found", "version stage ACSCurrent", "https://kms.cn-hangzhou.aliyuncs.com", "regionId"}},
		{&Error{Kind: NoPermission, Ref: arn, Identity: "AccessKey STS.NU12… from role acs:ram::222222222222:role/secrets-reader"},
			[]string{"allow kms:GetSecretValue on acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull", "role acs:ram::222222222222:role/secrets-reader"}},
		{&Error{Kind: NoPermission, Ref: bare},
			[]string{"kms:GetSecretValue on acs:kms:cn-hangzhou:*:secret/ghcr-pull", "the identity that signed the call"}},
		{&Error{Kind: NotLogin, Ref: arn, VersionID: "3", Detail: `the JSON object has no "password" key`},
			[]string{"(version 3) is not a registry login", `no "password" key`, `store a JSON object with "username" and "password" string members`}},
		{&Error{Kind: Binary, Ref: bare, VersionID: "1"}, []string{"is a binary secret", "text secret"}},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		if !strings.HasPrefix(msg, "Alibaba Cloud KMS secret ") {
			t.Errorf("%q does not say Alibaba Cloud", msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s error %q lacks %q", tt.err.Kind, msg, w)
			}
		}
		if KindOf(fmt.Errorf("wrapped: %w", tt.err)) != tt.err.Kind {
			t.Errorf("KindOf does not see %s through a wrap", tt.err.Kind)
		}
	}
	if KindOf(fmt.Errorf("plain")) != 0 {
		t.Error("KindOf of a plain error")
	}
}

// The logger scrubs every line (cloudapi.Scrub): the fixes must come through it whole.
func TestErrorTextSurvivesScrub(t *testing.T) {
	bare, _ := ParseRef("s", "cn-hangzhou")
	for _, e := range []*Error{
		{Kind: NotLogin, Ref: bare, VersionID: "1", Detail: `the JSON object has no "password" key`},
		{Kind: Binary, Ref: bare, VersionID: "1"},
		{Kind: NotFound, Ref: bare, Stage: DefaultStage, Endpoint: "https://kms.cn-hangzhou.aliyuncs.com"},
		{Kind: NoPermission, Ref: bare, Stage: DefaultStage, Identity: "AccessKey LTAI…"},
	} {
		if s := e.Error(); cloudapi.Scrub(s) != s {
			t.Errorf("%v: scrubbed to %q", e.Kind, cloudapi.Scrub(s))
		}
	}
}
