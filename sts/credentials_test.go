package sts

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Credentials never print their secrets, however they are printed or logged.
func TestCredentialsRedaction(t *testing.T) {
	t.Parallel()
	c := Credentials{AccessKeyID: "STS.NUxyzAccessKeyId", AccessKeySecret: "the-secret-value", SecurityToken: "the-security-token",
		Expiration: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: "role acs:ram::1:role/x"}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("got", "creds", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("got", "creds", c, "ptr", &c)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c), "%s": fmt.Sprintf("%s", c),
		"String": c.String(), "GoString": c.GoString(), "LogValue": c.LogValue().String(), "slog": logged.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, "the-secret-value") || strings.Contains(out, "the-security-token") || strings.Contains(out, "NUxyzAccessKeyId") {
			t.Errorf("%s prints a secret: %s", how, out)
		}
		if how != "slog" && !strings.Contains(out, "AccessKey STS.NUxy… from role acs:ram::1:role/x, expires 2026-01-02T03:04:05Z") {
			t.Errorf("%s = %q: it should still say which credentials these are", how, out)
		}
	}
}
