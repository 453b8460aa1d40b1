package secrets

import (
	"errors"
	"strings"
)

// Kind says what went wrong with a secret, for callers that answer differently per kind
// (doctor, strict mode).
type Kind int

// The kinds of Error.
const (
	NotFound     Kind = iota + 1 // no such secret, or no version with that stage (HTTP 404)
	NoPermission                 // RAM refused kms:GetSecretValue or kms:Decrypt (HTTP 403)
	NotLogin                     // the value is not {"username","password"} JSON
	Binary                       // a binary secret
)

func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not found"
	case NoPermission:
		return "no permission"
	case NotLogin:
		return "not a login"
	case Binary:
		return "binary secret"
	}
	return "unknown"
}

// Error is a secret that could not be turned into a login. Its text names the fix and never
// holds the secret's value.
type Error struct {
	Kind     Kind
	Ref      Ref
	Stage    string
	Endpoint string // where the call went, for not-found (a wrong region is the usual cause)
	Identity string // who asked, for no-permission (sts.Credentials.String, no secrets)
	// VersionID of the version read, for NotLogin and Binary.
	VersionID string
	// Detail says what is wrong with the value's shape (NotLogin).
	Detail string
	// Err is the API error behind NotFound and NoPermission.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("Alibaba Cloud KMS secret ")
	b.WriteString(e.Ref.String())
	switch e.Kind {
	case NotFound:
		b.WriteString(" not found (version stage " + e.Stage)
		if e.Endpoint != "" {
			b.WriteString(", endpoint " + e.Endpoint)
		}
		b.WriteString("): check the secret's name, its region (regionId, or the region in its ARN) and versionStage")
	case NoPermission:
		who := e.Identity
		if who == "" {
			who = "the identity that signed the call"
		}
		if e.Err != nil && strings.Contains(e.Err.Error(), "kms:Decrypt") {
			b.WriteString(": the secret is encrypted with a customer key; allow kms:Decrypt on that key (acs:kms:" +
				e.Ref.Region + ":<account>:key/<key-id>) to " + who)
		} else {
			b.WriteString(": allow kms:GetSecretValue on " + e.Ref.ARN() + " to " + who +
				" (and kms:Decrypt on the secret's key if it uses a customer key)")
		}
	case NotLogin:
		b.WriteString(e.version() + " is not a registry login: " + e.Detail +
			`; store a JSON object with "username" and "password" string members as its value`)
	case Binary:
		b.WriteString(e.version() + ` is a binary secret, which cannot hold a login; store the login as a text secret, a JSON object with "username" and "password" string members`)
	default:
		b.WriteString(": unusable")
	}
	if e.Err != nil {
		b.WriteString(" [" + e.Err.Error() + "]")
	}
	// Not scrubbed: nothing here holds a value (Err is a cloudapi error, scrubbed by its own
	// Error). The hints are worded so that the logger's Scrub (which blanks a secret-looking
	// value after "secret", "token" or "password") leaves them whole.
	return b.String()
}

func (e *Error) version() string {
	if e.VersionID == "" {
		return ""
	}
	return " (version " + e.VersionID + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf is the Kind of err, 0 when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
