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
// case). Its parameters may come in any order, quoted or not, with extra parameters. The realm must be an
// https URL on exactly dockerauth.<region>.aliyuncs.com or dockerauth-vpc.<region>.aliyuncs.com (no port,
// no userinfo, no query); the service must be "registry.aliyuncs.com:<region>:<suffix>" with the same
// region, where the suffix is a number (Personal Edition) or "<partition>:cri-<16 alphanumerics>"
// (Enterprise Edition, partition "china" seen). Anything else is an error wrapping errNotACRChallenge.
// Headers longer than 8 KiB are rejected.
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

	realmRegion, err := realmRegion(realm)
	if err != nil {
		return Challenge{}, err
	}

	rest, ok := strings.CutPrefix(service, servicePrefix)
	if !ok {
		return Challenge{}, notChallenge("service is not registry.aliyuncs.com")
	}
	region, suffix, ok := strings.Cut(rest, ":")
	if !ok || !ValidRegion(region) {
		return Challenge{}, notChallenge("service has no valid region")
	}
	if region != realmRegion {
		return Challenge{}, notChallenge("realm and service name different regions")
	}
	if isDigits(suffix) && len(suffix) <= 20 {
		return Challenge{Region: region, Personal: true}, nil
	}
	partition, id, ok := strings.Cut(suffix, ":")
	if !ok || !isAlnum(partition) || len(partition) > 32 || !isEnterpriseID(id) {
		return Challenge{}, notChallenge("service suffix is neither a Personal nor an Enterprise instance")
	}
	return Challenge{Region: region, InstanceID: id}, nil
}

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
		return Challenge{}, "", fmt.Errorf("GET %s: %v", url, errors.Unwrap(err))
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

// realmRegion checks that realm is https://dockerauth[-vpc].<region>.aliyuncs.com[/path] and returns the region.
func realmRegion(realm string) (string, error) {
	if len(realm) < len("https://") || !strings.EqualFold(realm[:len("https://")], "https://") {
		return "", notChallenge("realm is not an https URL")
	}
	if strings.ContainsAny(realm, " \t\r\n\v\f") {
		return "", notChallenge("whitespace in realm")
	}
	h, err := parseServerURL(realm)
	if err != nil {
		return "", notChallenge("realm is not a valid URL")
	}
	if h.IP || h.Key() != h.Hostname { // no port other than 443
		return "", notChallenge("realm host is not dockerauth")
	}
	rest, ok := strings.CutSuffix(h.Hostname, aliyunSuffix)
	if !ok {
		return "", notChallenge("realm host is not dockerauth")
	}
	first, region, ok := strings.Cut(rest, ".")
	if !ok || (first != "dockerauth" && first != "dockerauth-vpc") || !ValidRegion(region) {
		return "", notChallenge("realm host is not dockerauth")
	}
	return region, nil
}
