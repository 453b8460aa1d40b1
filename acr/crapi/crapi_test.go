package crapi

import (
	"errors"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

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
