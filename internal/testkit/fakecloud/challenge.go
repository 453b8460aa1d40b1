package fakecloud

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// RealmFamily names the form of the auth host in an ACR registry's challenge realm. Every family
// is seen in the wild; the package doc's table gives the source of each.
type RealmFamily string

const (
	// RealmClassic is https://dockerauth.<region>.aliyuncs.com/auth (Personal and Enterprise).
	RealmClassic RealmFamily = "classic"
	// RealmClassicVPC is https://dockerauth-vpc.<region>.aliyuncs.com/auth.
	RealmClassicVPC RealmFamily = "classic-vpc"
	// RealmEE is https://dockerauth-ee.<region>.aliyuncs.com/auth (Enterprise Edition).
	RealmEE RealmFamily = "ee"
	// RealmEEVPC is https://dockerauth-ee-vpc.<region>.aliyuncs.com/auth.
	RealmEEVPC RealmFamily = "ee-vpc"
	// RealmHyphen is https://dockerauth-<region>.aliyuncs.com/auth (cn-zhangjiakou).
	RealmHyphen RealmFamily = "hyphen"
	// RealmRegionless is https://dockerauth.aliyuncs.com/auth, with no region at all.
	RealmRegionless RealmFamily = "regionless"
)

// RealmFamilies lists every family, for table tests.
var RealmFamilies = []RealmFamily{RealmClassic, RealmClassicVPC, RealmEE, RealmEEVPC, RealmHyphen, RealmRegionless}

// ChallengeSpec is one variant of the anonymous /v2/ challenge of an ACR registry:
//
//	WWW-Authenticate: Bearer realm="https://<auth host>/auth",service="registry.aliyuncs.com:<region>:<suffix>[:<extra>…]"
type ChallengeSpec struct {
	// Realm is the auth host's family (default RealmClassic).
	Realm RealmFamily `json:"realm,omitempty"`
	// Region is the service's region, the one the registry lives in.
	Region string `json:"region"`
	// RealmRegion, when set, is the realm's region where it differs from the service's (a realm
	// in cn-hangzhou for a registry in another region).
	RealmRegion string `json:"realmRegion,omitempty"`
	// Suffix is "26842" for a Personal Edition registry or "<partition>:cri-…" for an instance.
	Suffix string `json:"suffix"`
	// ExtraParts are further service parts after the suffix (":"-separated).
	ExtraParts []string `json:"extraParts,omitempty"`
}

// PersonalChallenge is the classic Personal Edition challenge of a region (suffix 26842), which
// the new crpi-<id>.<region>.personal.cr.aliyuncs.com hosts answer too.
func PersonalChallenge(region string) ChallengeSpec {
	return ChallengeSpec{Realm: RealmClassic, Region: region, Suffix: "26842"}
}

// RegionlessRegistryChallenge is what registry.aliyuncs.com (no region in the host) answers: the
// region-less realm, and a service naming the cn-hangzhou Personal registry.
func RegionlessRegistryChallenge() ChallengeSpec {
	return ChallengeSpec{Realm: RealmRegionless, Region: "cn-hangzhou", Suffix: "26842"}
}

// AuthHost is the realm's host name.
func (c ChallengeSpec) AuthHost() string {
	r := c.Region
	if c.RealmRegion != "" {
		r = c.RealmRegion
	}
	switch c.Realm {
	case "", RealmClassic:
		return "dockerauth." + r + ".aliyuncs.com"
	case RealmClassicVPC:
		return "dockerauth-vpc." + r + ".aliyuncs.com"
	case RealmEE:
		return "dockerauth-ee." + r + ".aliyuncs.com"
	case RealmEEVPC:
		return "dockerauth-ee-vpc." + r + ".aliyuncs.com"
	case RealmHyphen:
		return "dockerauth-" + r + ".aliyuncs.com"
	case RealmRegionless:
		return "dockerauth.aliyuncs.com"
	}
	panic(fmt.Sprintf("fakecloud: unknown realm family %q", c.Realm))
}

// Service is the challenge's service parameter.
func (c ChallengeSpec) Service() string {
	parts := append([]string{"registry.aliyuncs.com", c.Region, c.Suffix}, c.ExtraParts...)
	return strings.Join(parts, ":")
}

// Header is the WWW-Authenticate value.
func (c ChallengeSpec) Header() string {
	return `Bearer realm="https://` + c.AuthHost() + `/auth",service="` + c.Service() + `"`
}

func (c ChallengeSpec) validate() error {
	if c.Region == "" || c.Suffix == "" {
		return fmt.Errorf("fakecloud: challenge needs a region and a suffix: %+v", c)
	}
	switch c.Realm {
	case "", RealmClassic, RealmClassicVPC, RealmEE, RealmEEVPC, RealmHyphen, RealmRegionless:
		return nil
	}
	return fmt.Errorf("fakecloud: unknown realm family %q (want one of %v)", c.Realm, RealmFamilies)
}

// Handler answers like an ACR registry to an anonymous client: GET /v2/ (and anything under
// /v2/) gets 401 with the challenge; other paths get 404.
func (c ChallengeSpec) Handler() http.Handler {
	if err := c.validate(); err != nil {
		panic(err)
	}
	return challengeHandler(c.Header())
}

// Challenge is the classic challenge: realm dockerauth.<region>, service
// registry.aliyuncs.com:<region>:<suffix>.
func Challenge(region, suffix string) http.Handler {
	return ChallengeSpec{Realm: RealmClassic, Region: region, Suffix: suffix}.Handler()
}

// Challenges maps registry host names to the challenge each answers; its Handler dispatches on
// the request's Host (port ignored, case folded) and answers 404 for any other host, like a
// name that is not a registry.
type Challenges map[string]ChallengeSpec

// Handler serves every host's challenge on one listener.
func (cs Challenges) Handler() http.Handler {
	byHost := map[string]http.Handler{}
	for h, c := range cs {
		byHost[strings.ToLower(h)] = c.Handler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if h, ok := byHost[strings.ToLower(host)]; ok {
			h.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func challengeHandler(header string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2" && !strings.HasPrefix(r.URL.Path, "/v2/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("WWW-Authenticate", header)
		w.WriteHeader(http.StatusUnauthorized)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
		}
	})
}
