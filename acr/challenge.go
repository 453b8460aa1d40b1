package acr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Challenge is what an ACR registry's anonymous /v2/ challenge says about the instance behind a host.
type Challenge struct {
	Region     string
	InstanceID string // Enterprise Edition instance id ("cri-…"); "" for Personal Edition
	Personal   bool
}

// errNotACRChallenge means a WWW-Authenticate header value is not an ACR registry challenge.
var errNotACRChallenge = errors.New("not an Alibaba Cloud Container Registry challenge")

const (
	maxChallengeLen = 8 << 10
	servicePrefix   = "registry.aliyuncs.com:"
)

func notChallenge(reason string) error {
	return fmt.Errorf("%w: %s", errNotACRChallenge, reason)
}

// ParseChallenge parses the value of a WWW-Authenticate header as sent by ACR on an anonymous GET /v2/:
//
//	Bearer realm="https://dockerauth.<region>.aliyuncs.com/auth",service="registry.aliyuncs.com:<region>:<suffix>"
//
// The header may hold several challenges (RFC 9110 §11.6.1); exactly one must use the Bearer scheme (any
// case). Its parameters may come in any order, quoted or not, with extra parameters.
//
// The region and the instance come from the service, "registry.aliyuncs.com:<region>:<suffix>", where the
// suffix is a number (Personal Edition, e.g. 26842 or 26888) or "<partition>:cri-<16 alphanumerics>"
// (Enterprise Edition, partition "china" seen); parts after the number or the instance id are ignored
// (a third-party adapter's fixtures carry "…:cri-…:2a"). The realm only has to be an Alibaba Cloud
// registry auth host (see isAuthHost): its region may differ from the service's or be absent, as real
// captures show (a cn-hangzhou realm with a cn-shenzhen or cn-shanghai service; the region-less
// https://dockerauth.aliyuncs.com/auth). It must be an https URL without port (other than 443),
// userinfo or query. Anything else is an error wrapping errNotACRChallenge. Headers longer than 8 KiB
// are rejected.
//
// The challenge is a hint about who the registry says it is, never a reason on its own to send a
// token anywhere: callers give tokens only to hosts the config lists or the instance's own endpoint
// list names.
func ParseChallenge(header string) (Challenge, error) {
	if len(header) > maxChallengeLen {
		return Challenge{}, notChallenge("header longer than 8 KiB")
	}
	challenges, err := parseAuthenticate(header)
	if err != nil {
		return Challenge{}, err
	}
	var bearer map[string]string
	for _, c := range challenges {
		if !strings.EqualFold(c.scheme, "bearer") {
			continue
		}
		if bearer != nil {
			return Challenge{}, notChallenge("more than one Bearer challenge")
		}
		bearer = c.params
	}
	if bearer == nil {
		return Challenge{}, notChallenge("no Bearer challenge")
	}
	realm, ok := bearer["realm"]
	if !ok {
		return Challenge{}, notChallenge("missing realm")
	}
	service, ok := bearer["service"]
	if !ok {
		return Challenge{}, notChallenge("missing service")
	}
	if err := checkRealm(realm); err != nil {
		return Challenge{}, err
	}
	return parseService(service)
}

// parseService reads "registry.aliyuncs.com:<region>:<number>[:…]" (Personal Edition) or
// "registry.aliyuncs.com:<region>:<partition>:cri-<id>[:…]" (Enterprise Edition).
func parseService(service string) (Challenge, error) {
	rest, ok := strings.CutPrefix(service, servicePrefix)
	if !ok {
		return Challenge{}, notChallenge("service is not registry.aliyuncs.com")
	}
	parts := strings.Split(rest, ":")
	if len(parts) > maxServiceParts {
		return Challenge{}, notChallenge("service has too many parts")
	}
	region := parts[0]
	if !ValidRegion(region) {
		return Challenge{}, notChallenge("service has no valid region")
	}
	if len(parts) >= 2 && isDigits(parts[1]) && len(parts[1]) <= 20 {
		return Challenge{Region: region, Personal: true}, nil
	}
	if len(parts) < 3 || !isAlnum(parts[1]) || len(parts[1]) > 32 || !isEnterpriseID(parts[2]) {
		return Challenge{}, notChallenge("service suffix is neither a Personal nor an Enterprise instance")
	}
	return Challenge{Region: region, InstanceID: parts[2]}, nil
}

// UnreachableError is ReadChallenge's answer when no HTTP answer came at all (no route, DNS, a
// refused or reset connection, TLS, the deadline): the registry said nothing, which is not the
// same as a registry that is not ACR.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("GET %s: %v", e.URL, e.Err) }

func (e *UnreachableError) Unwrap() error { return e.Err }

// maxServiceParts bounds the parts of a service after "registry.aliyuncs.com:".
const maxServiceParts = 16

// ReadChallenge asks url (https://<host>/v2/) anonymously for its challenge: GET without credentials,
// redirects not followed (whatever client's CheckRedirect says; nil client is a zero http.Client). The
// body is never read, only closed, so a registry that sends a huge or a trickling body cannot hold the
// caller. The answer must be 401; its first WWW-Authenticate value is returned as header, also when
// ParseChallenge rejects it, so that callers can show what the registry said. The deadline is ctx's
// and the client's.
func ReadChallenge(ctx context.Context, client *http.Client, url string) (ch Challenge, header string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Challenge{}, "", err
	}
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return Challenge{}, "", &UnreachableError{URL: url, Err: errors.Unwrap(err)}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return Challenge{}, "", fmt.Errorf("GET %s answered %d, not 401", url, resp.StatusCode)
	}
	header = resp.Header.Get("Www-Authenticate")
	ch, err = ParseChallenge(header)
	return ch, header, err
}

// isEnterpriseID matches cri- followed by 16 ASCII letters or digits.
func isEnterpriseID(s string) bool {
	id, ok := strings.CutPrefix(s, "cri-")
	if !ok || len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkRealm checks that realm is an https URL on an Alibaba Cloud registry auth host (isAuthHost),
// with no port other than 443, no userinfo and no query.
func checkRealm(realm string) error {
	if len(realm) < len("https://") || !strings.EqualFold(realm[:len("https://")], "https://") {
		return notChallenge("realm is not an https URL")
	}
	if strings.ContainsAny(realm, " \t\r\n\v\f") {
		return notChallenge("whitespace in realm")
	}
	h, err := parseServerURL(realm)
	if err != nil {
		return notChallenge("realm is not a valid URL")
	}
	if h.IP || h.Key() != h.Hostname || !isAuthHost(h.Hostname) { // no port other than 443
		return notChallenge("realm host is not an Alibaba Cloud registry auth host (dockerauth…aliyuncs.com)")
	}
	return nil
}

// isAuthHost reports whether host (lower case) is one of the registry auth hosts seen in the wild:
//
//	dockerauth.<region>.aliyuncs.com, dockerauth-vpc.<region>.aliyuncs.com   (Personal and Enterprise)
//	dockerauth-ee.<region>.aliyuncs.com, dockerauth-ee-vpc.<region>.aliyuncs.com (Enterprise: Alibaba's
//	    blog on reverse proxies in front of ACR; ACK's network requirements list dockerauth-ee.{region})
//	dockerauth-<region>.aliyuncs.com   (ACK docs: "if the region is cn-zhangjiakou, change the Docker
//	    endpoint to dockerauth-{region}.aliyuncs.com")
//	dockerauth.aliyuncs.com            (region-less; quoted in giantswarm's tests with a cn-shanghai service)
//
// All are under aliyuncs.com, which only Alibaba Cloud controls; the region in the name is not used.
func isAuthHost(host string) bool {
	rest, ok := strings.CutSuffix(host, aliyunSuffix)
	if !ok {
		return false
	}
	first, region, twoLabels := strings.Cut(rest, ".")
	if !twoLabels {
		if first == "dockerauth" {
			return true
		}
		r, ok := strings.CutPrefix(first, "dockerauth-")
		return ok && ValidRegion(r)
	}
	switch first {
	case "dockerauth", "dockerauth-vpc", "dockerauth-ee", "dockerauth-ee-vpc":
		return ValidRegion(region)
	}
	return false
}
