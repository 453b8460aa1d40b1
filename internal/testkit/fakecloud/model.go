package fakecloud

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// User is a RAM user, or with Root set the Alibaba Cloud account itself, holding one long-term
// AccessKey pair.
type User struct {
	// AccountID is the owning account (the 16-digit "UID"). Accounts exist implicitly.
	AccountID string `json:"account"`
	// Name is the RAM user name; ignored for a root user.
	Name string `json:"name"`
	// Root marks the account's own (root) AccessKey. Roots cannot assume roles, like the real STS.
	Root bool `json:"root,omitempty"`
	// AccessKeyID and AccessKeySecret sign the requests (ACS3-HMAC-SHA256 or legacy HMAC-SHA1).
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	// RegistryPassword reports that this RAM user has set a Personal Edition registry password
	// (console or CreateUserInfo). Without it `GET /tokens` answers 404 USER_NOT_EXIST, like the
	// real service. A root user always passes.
	RegistryPassword bool `json:"registryPassword,omitempty"`
	// Deny lists RAM actions this principal is not allowed, e.g. "cr:GetAuthorizationToken",
	// "cr:ListInstance", "cr:GetInstance", "cr:ListInstanceEndpoint", "sts:AssumeRole"; "*" denies all.
	Deny []string `json:"deny,omitempty"`
}

// ARN is the principal ARN: acs:ram::<account>:root or acs:ram::<account>:user/<name>.
func (u User) ARN() string {
	if u.Root {
		return "acs:ram::" + u.AccountID + ":root"
	}
	return "acs:ram::" + u.AccountID + ":user/" + u.Name
}

// Role is a RAM role.
type Role struct {
	AccountID string `json:"account"`
	Name      string `json:"name"`
	// TrustedAccounts: any RAM user or role session of these accounts may assume the role
	// (trust policy principal "acs:ram::<id>:root").
	TrustedAccounts []string `json:"trustedAccounts,omitempty"`
	// TrustedPrincipals: ARNs of RAM users ("acs:ram::<id>:user/<name>") or roles
	// ("acs:ram::<id>:role/<name>", matching any session of that role) allowed to assume it.
	TrustedPrincipals []string `json:"trustedPrincipals,omitempty"`
	// ExternalID, when set, must be passed as AssumeRole's ExternalId (trust policy condition
	// sts:ExternalId); a missing or different value is refused with 403 NoPermission.
	ExternalID string `json:"externalId,omitempty"`
	// MaxSessionDuration bounds DurationSeconds (default and minimum 1h, maximum 12h, as RAM).
	MaxSessionDuration time.Duration `json:"-"`
	// MaxSessionDurationSeconds is MaxSessionDuration for scenario files.
	MaxSessionDurationSeconds int `json:"maxSessionDurationSeconds,omitempty"`
	// NoRegistryUser makes `GET /tokens` answer USER_NOT_EXIST for sessions of this role.
	NoRegistryUser bool `json:"noRegistryUser,omitempty"`
	// Deny lists RAM actions denied to sessions of this role (see User.Deny).
	Deny []string `json:"deny,omitempty"`
}

// ARN is acs:ram::<account>:role/<lower-case name>, as RAM prints it.
func (r Role) ARN() string { return "acs:ram::" + r.AccountID + ":role/" + strings.ToLower(r.Name) }

func (r Role) maxDuration() time.Duration {
	d := r.MaxSessionDuration
	if d == 0 && r.MaxSessionDurationSeconds > 0 {
		d = time.Duration(r.MaxSessionDurationSeconds) * time.Second
	}
	if d <= 0 {
		d = time.Hour
	}
	return d
}

// Domain is one host name of an Enterprise Edition endpoint; Type is SYSTEM or USER.
type Domain struct {
	Domain string `json:"domain"`
	Type   string `json:"type"`
}

// Endpoint is one access endpoint of an instance as ListInstanceEndpoint reports it.
type Endpoint struct {
	// Type is the EndpointType: "internet" or "vpc".
	Type    string   `json:"type"`
	Enable  bool     `json:"enable"`
	Status  string   `json:"status,omitempty"` // default RUNNING
	Domains []Domain `json:"domains"`
}

// Instance is a Container Registry Enterprise Edition instance.
type Instance struct {
	AccountID string `json:"account"`
	ID        string `json:"id"`   // cri-…
	Name      string `json:"name"` // 3-30 chars of [a-z0-9-]
	Region    string `json:"region"`
	// Status defaults to RUNNING; Specification to Enterprise_Standard.
	Status        string `json:"status,omitempty"`
	Specification string `json:"specification,omitempty"`
	// Endpoints default to an enabled internet endpoint <name>-registry.<region>.cr.aliyuncs.com
	// and an enabled vpc endpoint <name>-registry-vpc.<region>.cr.aliyuncs.com (both SYSTEM),
	// with CustomDomains added as USER domains of the internet endpoint.
	Endpoints     []Endpoint `json:"endpoints,omitempty"`
	CustomDomains []string   `json:"customDomains,omitempty"`
}

func (in Instance) endpoints() []Endpoint {
	if len(in.Endpoints) > 0 {
		return in.Endpoints
	}
	internet := Endpoint{Type: "internet", Enable: true, Domains: []Domain{
		{Domain: in.Name + "-registry." + in.Region + ".cr.aliyuncs.com", Type: "SYSTEM"}}}
	for _, d := range in.CustomDomains {
		internet.Domains = append(internet.Domains, Domain{Domain: d, Type: "USER"})
	}
	vpc := Endpoint{Type: "vpc", Enable: true, Domains: []Domain{
		{Domain: in.Name + "-registry-vpc." + in.Region + ".cr.aliyuncs.com", Type: "SYSTEM"}}}
	return []Endpoint{internet, vpc}
}

// OIDCToken registers an OIDC token that AssumeRoleWithOIDC accepts for one (provider, role).
type OIDCToken struct {
	ProviderARN string    `json:"providerArn"` // acs:ram::<account>:oidc-provider/<name>
	RoleARN     string    `json:"roleArn"`
	Token       string    `json:"token"`
	Expires     time.Time `json:"-"` // zero: one hour after registration
	// ExpiresInSeconds is Expires relative to loading, for scenario files (negative: already expired).
	ExpiresInSeconds int `json:"expiresInSeconds,omitempty"`
	// Subject and Issuer are echoed in OIDCTokenInfo.
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
}

// Credentials are STS credentials as AssumeRole returns them.
type Credentials struct {
	AccessKeyID     string    `json:"accessKeyId"`
	AccessKeySecret string    `json:"accessKeySecret"`
	SecurityToken   string    `json:"securityToken"`
	Expiration      time.Time `json:"expiration"`
	RoleARN         string    `json:"roleArn"`
	SessionName     string    `json:"sessionName"`
}

// IssuedToken is a registry token the fake handed out.
type IssuedToken struct {
	Time time.Time `json:"time"`
	// Edition is "personal" (GET /tokens) or "enterprise" (GetAuthorizationToken 2018-12-01).
	Edition    string `json:"edition"`
	InstanceID string `json:"instanceId,omitempty"`
	Region     string `json:"region,omitempty"`
	Username   string `json:"username"`
	Token      string `json:"token"`
	// ExpiresAt is the expiry the API reported (ms precision).
	ExpiresAt time.Time `json:"expiresAt"`
	// AccessKeyID signed the request; Principal is the caller's ARN (assumed-role ARN for STS).
	AccessKeyID string `json:"accessKeyId"`
	Principal   string `json:"principal"`
}

var (
	reAccount     = regexp.MustCompile(`^[0-9]{1,20}$`)
	reRoleName    = regexp.MustCompile(`^[A-Za-z0-9.@_-]{1,64}$`)
	reRoleARN     = regexp.MustCompile(`^acs:ram::([0-9]+):role/([A-Za-z0-9.@_-]+)$`)
	reSessionName = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	reInstName    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{1,28})[a-z0-9]$`)
)

func (u User) validate() error {
	if !reAccount.MatchString(u.AccountID) {
		return fmt.Errorf("fakecloud: user %q: bad account id %q", u.Name, u.AccountID)
	}
	if !u.Root && u.Name == "" {
		return errors.New("fakecloud: RAM user needs a name")
	}
	if u.AccessKeyID == "" || u.AccessKeySecret == "" {
		return fmt.Errorf("fakecloud: user %q needs an AccessKey pair", u.Name)
	}
	if strings.HasPrefix(u.AccessKeyID, "STS.") {
		return fmt.Errorf("fakecloud: user %q: long-term AccessKey ids must not start with STS.", u.Name)
	}
	return nil
}

func (r Role) validate() error {
	if !reAccount.MatchString(r.AccountID) {
		return fmt.Errorf("fakecloud: role %q: bad account id %q", r.Name, r.AccountID)
	}
	if !reRoleName.MatchString(r.Name) {
		return fmt.Errorf("fakecloud: bad role name %q", r.Name)
	}
	return nil
}

func (in Instance) validate() error {
	if !reAccount.MatchString(in.AccountID) {
		return fmt.Errorf("fakecloud: instance %q: bad account id %q", in.ID, in.AccountID)
	}
	if !strings.HasPrefix(in.ID, "cri-") {
		return fmt.Errorf("fakecloud: instance id %q must start with cri-", in.ID)
	}
	if !reInstName.MatchString(in.Name) {
		return fmt.Errorf("fakecloud: bad instance name %q", in.Name)
	}
	if in.Region == "" {
		return fmt.Errorf("fakecloud: instance %q needs a region", in.ID)
	}
	return nil
}
