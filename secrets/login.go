package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/internal/terminal"
)

// Login is a registry login read from a secret. String, GoString and LogValue never show the
// password.
type Login struct {
	Username string
	Password string
	// VersionID and Stages say which version of the secret was read.
	VersionID string
	Stages    []string
}

func (l Login) String() string {
	s := "login " + l.Username
	if l.VersionID != "" {
		s += " (secret version " + l.VersionID + ")"
	}
	return s
}

// GoString keeps %#v from printing the password.
func (l Login) GoString() string { return "secrets.Login{" + l.String() + "}" }

// LogValue keeps slog from printing the password.
func (l Login) LogValue() slog.Value { return slog.StringValue(l.String()) }

// errBadValue is a value that is not the expected login JSON; its text never quotes the value.
type errBadValue string

func (e errBadValue) Error() string { return string(e) }

// DecodeLogin reads a secret value {"username": "…", "password": "…"} with the keys in any letter case. Its
// errors say what is wrong with the shape only: encoding/json's own messages can quote bytes of
// the input, so they are never passed on.
func DecodeLogin(data string) (username, password string, err error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(data), &obj) != nil || obj == nil {
		return "", "", errBadValue("the value is not a JSON object")
	}
	get := func(key string) (string, error) {
		var found []json.RawMessage
		for k, v := range obj {
			if strings.EqualFold(k, key) {
				found = append(found, v)
			}
		}
		switch {
		case len(found) == 0:
			return "", errBadValue(fmt.Sprintf("the JSON object has no %q key", key))
		case len(found) > 1:
			return "", errBadValue(fmt.Sprintf("the JSON object has %d %q keys differing only in letter case", len(found), key))
		}
		var s string
		if json.Unmarshal(found[0], &s) != nil {
			return "", errBadValue(fmt.Sprintf("the %q key is not a JSON string", key))
		}
		if s == "" {
			return "", errBadValue(fmt.Sprintf("the %q key is empty", key))
		}
		return s, nil
	}
	if username, err = get("username"); err != nil {
		return "", "", err
	}
	if password, err = get("password"); err != nil {
		return "", "", err
	}
	if strings.ContainsAny(username, ":\r\n") {
		// A registry's Basic auth splits user:password at the first colon.
		return "", "", errBadValue(`the "username" holds a ':' or a line break, which no registry login can carry`)
	}
	if terminal.HasControls(username) {
		// The user name is shown (get-login-password, doctor): whoever can write the secret
		// must not reach the terminal through it.
		return "", "", errBadValue(`the "username" holds control characters (C0, C1, DEL or bidi controls), which no registry user name has`)
	}
	if strings.ContainsAny(password, "\r\n") {
		return "", "", errBadValue(`the "password" holds a line break`)
	}
	return username, password, nil
}

var _ error = errBadValue("")

// isBadValue reports whether err came from DecodeLogin.
func isBadValue(err error) bool {
	var e errBadValue
	return errors.As(err, &e)
}
