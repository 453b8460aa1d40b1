package keychain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr/crapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// NotFoundError means there are no credentials for the host, which the protocols answer with
// "not found" so that clients go on anonymously. Hint, if set, tells the user how to get some.
type NotFoundError struct {
	Host string
	Hint string
	// NoCredentials: the machine has no Alibaba Cloud credentials at all. That is how a laptop
	// without an account is meant to work (anonymous pulls), so the hint is not a warning.
	NoCredentials bool
}

func (e *NotFoundError) Error() string {
	if e.Hint == "" {
		return "no credentials for " + e.Host
	}
	return e.Hint
}

// TokenError means the host is an ACR registry and credentials exist, but getting a token failed.
// Its message says what failed and what to do.
type TokenError struct {
	Host string
	Err  error
	Fix  string
}

func (e *TokenError) Error() string {
	msg := fmt.Sprintf("Alibaba Cloud ACR login for %s failed: %s", e.Host, cloudapi.Scrub(e.Err.Error()))
	if e.Fix != "" {
		msg += " — " + e.Fix
	}
	return strings.Join(strings.Fields(msg), " ") // one line, whatever the SDKs put in their errors
}

func (e *TokenError) Unwrap() error { return e.Err }

type untrustedDomainError struct{ host, instance string }

func (e *untrustedDomainError) Error() string {
	return fmt.Sprintf("%s points at instance %s, but that instance does not list %s among its domains (ListInstanceEndpoint), so no token is handed to it", e.host, e.instance, e.host)
}

// explain turns a failure to get a token into a TokenError that says what to do next.
func (k *Keychain) Explain(p *Plan, err error) error {
	if p.Secret != nil {
		return k.explainSecret(p, err)
	}
	te := &TokenError{Host: p.Registry.Host, Err: err}
	var ae *cloudapi.Error
	var ce *sts.ChainError
	var nf *crapi.NotFoundError
	var ud *untrustedDomainError
	var tr *cloudapi.TransportError
	switch {
	case errors.As(err, &ae):
		te.Fix = fixFor(ae, p)
	case errors.As(err, &ce):
		te.Fix = "fix the credential source named above, or pick another (see `docker-credential-acr doctor " + p.Registry.Host + "`)"
	case errors.As(err, &nf):
		te.Fix = "check the host name, or name the instance with instanceId and regionId in the config file"
	case errors.As(err, &ud):
		te.Fix = "add the domain to the instance (console: Instance → Domain), or list it with instanceId and regionId in the config file if you trust it"
	case errors.Is(err, context.Canceled):
		te.Fix = "the caller cancelled the request"
	case errors.Is(err, context.DeadlineExceeded):
		te.Fix = "the command's deadline passed: check the network, or raise DOCKER_CREDENTIAL_ACR_TIMEOUT"
	case errors.As(err, &tr):
		te.Fix = "check the network path to the endpoint (proxy, DNS, VPC endpoints: vpc in the config for cr and KMS, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED for STS; or endpoints: in the config)"
	}
	return te
}

func fixFor(e *cloudapi.Error, p *Plan) string {
	action := e.Service + ":" + e.Action
	who := "these credentials"
	switch e.Code {
	case "USER_NOT_EXIST":
		return "ACR says USER_NOT_EXIST: this RAM user has never set a registry password; set one once in the ACR console (Personal Edition → Access Credentials) or call CreateUserInfo, then retry"
	case "NoPermission", "NoPrivilege", "Forbidden.RAM", "Forbidden", "Forbidden.AccessDenied", "NotAuthorized":
		if e.Service == "sts" {
			return "the caller may not assume this role: grant sts:AssumeRole to " + who + " and make the role's trust policy name the caller's account or role"
		}
		return "grant " + action + " to " + who + " in RAM (the minimal pull policy: cr:GetAuthorizationToken, cr:ListInstance, cr:ListInstanceEndpoint, cr:PullRepository)"
	case "EntityNotExist.Role":
		return "the role does not exist: check arnService/arnUser in " + entryName(p)
	case "InvalidSecurityToken.Expired":
		return "the STS credentials expired: refresh ALIBABA_CLOUD_SECURITY_TOKEN (or the profile that holds them), or use a source that renews itself"
	case "InvalidSecurityToken.MismatchWithAccessKey", "InvalidSecurityToken.Malformed":
		return "the security token does not belong to this AccessKey: set ALIBABA_CLOUD_SECURITY_TOKEN from the same AssumeRole answer as the AccessKey"
	case "SignatureDoesNotMatch", "IncompleteSignature":
		return "the AccessKey secret does not match the AccessKey id: check ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile's secret"
	case "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "InvalidAccessKeyId":
		return "this AccessKey id does not exist or is disabled: create a new AccessKey in the RAM console"
	case "INSTANCE_NOT_EXIST", "InstanceNotExist", "InvalidInstanceId", "INSTANCE_NOT_EXISTS", "Instance.NotExist":
		return "instance " + p.InstanceID + " does not exist in region " + p.Region + ": check instanceId and regionId (the instance's region, not yours) in the config"
	case "InvalidRegionId", "UnsupportedRegion":
		return "the region " + p.Region + " is not served: check regionId"
	case "InvalidParameter.ExternalId", "InvalidParameter.ExternalID":
		return "the role requires an externalId: set externalId in " + entryName(p)
	}
	if strings.HasPrefix(e.Code, "Throttling") {
		return "Alibaba Cloud throttled the call: retry in a minute; the on-disk cache keeps this rare"
	}
	if e.StatusCode >= 500 {
		return "Alibaba Cloud answered with a server error: retry later"
	}
	return ""
}

func entryName(p *Plan) string {
	if p.Entry == nil {
		return "the config file"
	}
	return p.Entry.Describe()
}
