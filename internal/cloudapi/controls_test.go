package cloudapi

import (
	"strings"
	"testing"
)

// Errors and transport errors go through Scrub, which strips what a terminal would act on.
func TestErrorTextHasNoControls(t *testing.T) {
	e := &Error{Service: "cr", Action: "GetAuthorizationToken", StatusCode: 403, Code: "Forbidden\x1b[2J",
		Message: "denied\x1b]0;pwned\x07\x1b[2J SecurityToken=\x1b[0msecret-tok", RequestID: "R\u202e1"}
	got := e.Error()
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "pwned", "secret-tok"} {
		if strings.Contains(got, bad) {
			t.Errorf("error text holds %q: %q", bad, got)
		}
	}
	te := &TransportError{Service: "sts", Action: "AssumeRole", Endpoint: "https://sts.aliyuncs.com", Err: errorString("reset\x1b[2J")}
	if strings.Contains(te.Error(), "\x1b") {
		t.Errorf("transport error holds ESC: %q", te.Error())
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
