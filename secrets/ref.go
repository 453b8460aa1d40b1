package secrets

import (
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/acr"

	"fmt"
	"regexp"
	"strings"
)

// DefaultStage is the version stage read when none is configured: the version the service marks
// current.
const DefaultStage = "ACSCurrent"

// Ref is a parsed `secret` setting: which secret, in which region, of which account.
type Ref struct {
	Name    string // the secret's name, never an ARN
	Region  string // where the secret lives
	Account string // owning account; "" when the setting was a bare name
	fromARN bool
}

var (
	// Names as the KMS console accepts them: letters, digits and _ / + = . @ -, 1 to 192.
	reName  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_/+=.@-]{1,192}$`) })
	reStage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`) })
)

// ParseRef parses a `secret` setting: a secret name, or an ARN
// acs:kms:<region>:<account>:secret/<name>. region is the entry's regionId ("" when unset); an
// ARN carries its own region, and a regionId that names another one is an error rather than a
// silent choice between them.
func ParseRef(secret, region string) (Ref, error) {
	s := strings.TrimSpace(secret)
	region = strings.TrimSpace(region)
	if region != "" && !acr.ValidRegion(region) {
		return Ref{}, fmt.Errorf("regionId %q of secret %q is not a region id: write it like cn-hangzhou", region, s)
	}
	if s == "" {
		return Ref{}, fmt.Errorf("secret is empty: write the KMS secret's name, or its ARN acs:kms:<region>:<account>:secret/<name>")
	}
	if !strings.HasPrefix(strings.ToLower(s), "acs:") {
		if !reName().MatchString(s) {
			return Ref{}, fmt.Errorf("secret %q is not a KMS secret name (1 to 192 letters, digits or _ / + = . @ -) nor an ARN acs:kms:<region>:<account>:secret/<name>", s)
		}
		if region == "" {
			return Ref{}, fmt.Errorf("secret %q has no region: set regionId on the entry, or write the secret's ARN acs:kms:<region>:<account>:secret/%s", s, s)
		}
		return Ref{Name: s, Region: region}, nil
	}
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("secret %q is not a KMS secret ARN (%s): write it as acs:kms:<region>:<account>:secret/<name>", s, why)
	}
	parts := strings.SplitN(s, ":", 5)
	if len(parts) != 5 {
		return bad("it needs five parts separated by ':'")
	}
	if parts[0] != "acs" || parts[1] != "kms" {
		return bad("it must start with acs:kms:")
	}
	r, acct, res := parts[2], parts[3], parts[4]
	if !acr.ValidRegion(r) {
		return bad(fmt.Sprintf("%q is not a region id", r))
	}
	if !acr.ValidAccount(acct) {
		return bad(fmt.Sprintf("%q is not an account id", acct))
	}
	name, ok := strings.CutPrefix(res, "secret/")
	if !ok {
		return bad("the resource must be secret/<name>")
	}
	if !reName().MatchString(name) {
		return bad(fmt.Sprintf("%q is not a secret name", name))
	}
	if region != "" && region != r {
		return Ref{}, fmt.Errorf("secret %s lives in %s but the entry's regionId is %s: drop regionId (the ARN names the region) or make them agree", s, r, region)
	}
	return Ref{Name: name, Region: r, Account: acct, fromARN: true}, nil
}

// CheckStage validates a versionStage setting ("" means DefaultStage) and returns the stage to ask for.
func CheckStage(stage string) (string, error) {
	stage = strings.TrimSpace(stage)
	if stage == "" {
		return DefaultStage, nil
	}
	if !reStage().MatchString(stage) {
		return "", fmt.Errorf("versionStage %q is not a version stage: use ACSCurrent (the default), ACSPrevious or your own label (letters, digits, _ . @ -)", stage)
	}
	return stage, nil
}

// SecretName is the SecretName sent to GetSecretValue: the ARN when the setting was one (so that
// the service reads exactly that account's secret), else the name.
func (r Ref) SecretName() string {
	if r.fromARN {
		return r.ARN()
	}
	return r.Name
}

// ARN is the secret's RAM resource name; "*" stands for an account that is not known.
func (r Ref) ARN() string {
	acct := r.Account
	if acct == "" {
		acct = "*"
	}
	return "acs:kms:" + r.Region + ":" + acct + ":secret/" + r.Name
}

// WithAccount fills in the owning account of a bare name, once the caller knows it (the signing
// identity's account, from a role ARN or GetCallerIdentity). An ARN keeps its own.
func (r Ref) WithAccount(account string) Ref {
	if r.Account == "" && acr.ValidAccount(account) {
		r.Account = account
	}
	return r
}

// String names the secret for messages: its ARN when given as one, else name (region).
func (r Ref) String() string {
	if r.fromARN {
		return r.ARN()
	}
	return r.Name + " (" + r.Region + ")"
}
