package kubeletapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The password of an Auth shows in the JSON answer only: never in %v, %+v, %#v, %s or a log.
func TestAuthRedaction(t *testing.T) {
	const secret = "registry-password-must-not-show"
	a := Auth{Username: "cr_temp_user", Password: secret}
	resp := Response{APIVersion: APIVersionV1, Kind: ResponseKind, CacheKeyType: CacheKeyRegistry, Auth: map[string]Auth{"h": a}}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "auth", a, "resp", resp)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "auth", a)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a), fmt.Sprintf("%v %+v", resp, resp), logged.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("the password shows: %s", s)
		}
		if !strings.Contains(s, "cr_temp_user") {
			t.Errorf("the user name does not show: %s", s)
		}
	}
	b, err := json.Marshal(resp)
	if err != nil || !strings.Contains(string(b), `"password":"`+secret+`"`) {
		t.Errorf("the answer lacks the password: %s %v", b, err)
	}
}
