package sts

import (
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// Hop is one role of a role chain: the role to assume and what the AssumeRole call asks for.
type Hop struct {
	RoleARN     string
	ExternalID  string
	SessionName string
	Duration    time.Duration // 900s..the role's maximum; 0 means 3600s
}

// RoleChain builds the hops of a cross-account chain, in order: arnService (the caller's own
// account's role), then arnUser (the registry owner's role); either may be empty. The externalId
// goes to the last hop: it is the registry owner's role whose trust policy asks for it, also when
// only arnService is set.
func RoleChain(arnService, arnUser, externalID, sessionName string, duration time.Duration) []Hop {
	var hops []Hop
	for _, arn := range []string{arnService, arnUser} {
		if arn != "" {
			hops = append(hops, Hop{RoleARN: arn, SessionName: sessionName, Duration: duration})
		}
	}
	if len(hops) > 0 {
		hops[len(hops)-1].ExternalID = externalID
	}
	return hops
}

// Assume is the hop performed with the credentials of base, asking STS at endpoint.
func (h Hop) Assume(base Provider, endpoint cloudapi.Endpoint, retry cloudapi.Retry) *AssumeRole {
	return &AssumeRole{Base: base, Hop: h, Endpoint: endpoint, Retry: retry}
}

// Through wraps base in the hops, the first hop innermost: each hop runs with the credentials of
// the one before it.
func Through(base Provider, hops []Hop, endpoint cloudapi.Endpoint, retry cloudapi.Retry) Provider {
	p := base
	for _, h := range hops {
		p = h.Assume(p, endpoint, retry)
	}
	return p
}

// ARNs lists the roles of the hops, in order.
func ARNs(hops []Hop) []string {
	var out []string
	for _, h := range hops {
		out = append(out, h.RoleARN)
	}
	return out
}
