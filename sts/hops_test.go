package sts

import (
	"reflect"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

func TestRoleChainExternalIDGoesToTheLastHop(t *testing.T) {
	const svc, user, ext, sess = "acs:ram::1:role/svc", "acs:ram::2:role/user", "ext-1", "s"
	d := 900 * time.Second
	for _, tt := range []struct {
		name      string
		svc, user string
		want      []Hop
	}{
		{"no role", "", "", nil},
		{"arnUser only", "", user, []Hop{{RoleARN: user, ExternalID: ext, SessionName: sess, Duration: d}}},
		{"arnService only", svc, "", []Hop{{RoleARN: svc, ExternalID: ext, SessionName: sess, Duration: d}}},
		{"both", svc, user, []Hop{{RoleARN: svc, SessionName: sess, Duration: d}, {RoleARN: user, ExternalID: ext, SessionName: sess, Duration: d}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := RoleChain(tt.svc, tt.user, ext, sess, d)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("RoleChain = %+v, want %+v", got, tt.want)
			}
			// Through wraps the hops around the base, the first hop innermost.
			base := Static(Credentials{AccessKeyID: "id", AccessKeySecret: "s"})
			ep := cloudapi.Endpoint{Host: "127.0.0.1:1", Scheme: "http"}
			p := Through(base, got, ep, cloudapi.Retry{})
			for i := len(got) - 1; i >= 0; i-- {
				a, ok := p.(*AssumeRole)
				if !ok || a.Hop != got[i] || a.Endpoint != ep {
					t.Fatalf("hop %d: %#v", i, p)
				}
				p = a.Base
			}
			if _, ok := p.(*AssumeRole); ok {
				t.Fatal("more hops than planned")
			}
			if !reflect.DeepEqual(ARNs(got), ARNs(tt.want)) {
				t.Fatalf("ARNs = %v", ARNs(got))
			}
		})
	}
}
