package crapi

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

func TestMillis(t *testing.T) {
	want := time.UnixMilli(1700000000123)
	for _, raw := range []string{`1700000000123`, `"1700000000123"`} {
		if got, err := millis(json.RawMessage(raw)); err != nil || !got.Equal(want) {
			t.Errorf("millis(%s) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{``, `null`, `0`, `-5`, `"soon"`, `1.5e12`, `{}`} {
		if got, err := millis(json.RawMessage(raw)); err == nil {
			t.Errorf("millis(%s) = %v, want an error", raw, got)
		}
	}
}

func TestFailed(t *testing.T) {
	yes, no := true, false
	code, id := "INSTANCE_NOT_EXIST", "req-1"
	if err := failed("ListInstance", &yes, nil, nil); err != nil {
		t.Errorf("IsSuccess=true: %v", err)
	}
	for _, tt := range []struct {
		ok       *bool
		code     *string
		wantCode string
	}{
		{&no, &code, code},
		{&no, nil, "IsSuccess=false"},
		{nil, nil, "IsSuccess=false"}, // an answer without IsSuccess is no success
	} {
		var ae *cloudapi.Error
		err := failed("ListInstance", tt.ok, tt.code, &id)
		if !errors.As(err, &ae) || ae.Service != "cr" || ae.Action != "ListInstance" || ae.Code != tt.wantCode || ae.RequestID != id {
			t.Errorf("failed(%v, %v) = %#v", tt.ok, tt.code, err)
		}
	}
}

func TestNotFoundErrorText(t *testing.T) {
	err := error(&NotFoundError{what: `Enterprise instance named "team"`, region: "cn-beijing"})
	if got, want := err.Error(), `no Enterprise instance named "team" in region cn-beijing visible to these credentials`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
