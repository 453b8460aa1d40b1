package sts

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// metadataFake is a loopback stand-in for 100.100.100.200: the role's transport dials it instead.
func metadataFake(t *testing.T, h http.HandlerFunc) (*ecsRAMRole, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Host != "100.100.100.200" {
			t.Errorf("request for host %q, want 100.100.100.200", r.Host)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	e := newECSRAMRole("", false)
	e.client.Transport = metadataTransport(func(ctx context.Context, network, target string) (net.Conn, error) {
		if target != "100.100.100.200:80" {
			t.Errorf("dial %s, want 100.100.100.200:80", target)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	})
	return e, &calls
}

const goodDoc = `{"AccessKeyId":"STS.ecs","AccessKeySecret":"ecs-secret","SecurityToken":"ecs-token","Expiration":"2030-01-02T03:04:05Z","LastUpdated":"2030-01-02T02:04:05Z","Code":"Success"}`

func TestECSRAMRole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		role    string
		v1off   bool
		handler func(w http.ResponseWriter, r *http.Request)
		wantErr string
		wantSrc string
	}{
		{name: "IMDSv2 and role discovery", wantSrc: "ECS RAM role web", handler: func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
				if r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds") == "" {
					w.WriteHeader(400)
					return
				}
				w.Write([]byte("v2tok"))
			case r.Header.Get("X-aliyun-ecs-metadata-token") != "v2tok":
				w.WriteHeader(401)
			case r.URL.Path == "/latest/meta-data/ram/security-credentials/":
				w.Write([]byte("web\n"))
			case r.URL.Path == "/latest/meta-data/ram/security-credentials/web":
				w.Write([]byte(goodDoc))
			default:
				w.WriteHeader(404)
			}
		}},
		{name: "IMDSv1 fallback", role: "web", wantSrc: "ECS RAM role web", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				w.WriteHeader(403)
				return
			}
			w.Write([]byte(goodDoc))
		}},
		{name: "IMDSv1 disabled", role: "web", v1off: true, wantErr: "IMDSv1 is disabled", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				w.WriteHeader(403)
				return
			}
			w.Write([]byte(goodDoc))
		}},
		{name: "Code not Success", role: "web", wantErr: `Code "Failed"`, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"Code":"Failed","AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t"}`))
		}},
		{name: "no security token", role: "web", wantErr: "lack a key", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"s"}`))
		}},
		{name: "garbage", role: "web", wantErr: "not a credentials document", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>captive portal</html>"))
		}},
		{name: "huge body is bounded", role: "web", wantErr: "over 64 KiB", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", 10<<20)))
		}},
		{name: "error body never echoed", role: "web", wantErr: "HTTP 500", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			w.Write([]byte("ecs-secret-in-error-body"))
		}},
		{name: "hostile role name", wantErr: "names no RAM role", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/latest/meta-data/ram/security-credentials/" {
				w.Write([]byte("../../evil"))
				return
			}
			w.Write([]byte(goodDoc))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := metadataFake(t, tc.handler)
			e.role, e.imdsv1Disabled = tc.role, tc.v1off
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := e.Credentials(ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error leaks the body: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.AccessKeyID != "STS.ecs" || c.AccessKeySecret != "ecs-secret" || c.SecurityToken != "ecs-token" || c.Source != tc.wantSrc {
				t.Fatalf("credentials = %v", c)
			}
			if want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC); !c.Expiration.Equal(want) {
				t.Fatalf("expiration %v, want %v", c.Expiration, want)
			}
		})
	}
}

// TestECSRAMRoleIgnoresProxy: with HTTP_PROXY pointing at a recording proxy, the metadata request
// still goes straight to the metadata address and the proxy sees nothing.
func TestECSRAMRoleIgnoresProxy(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		w.Write([]byte(goodDoc))
	}))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	e, calls := metadataFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.Write([]byte("tok"))
			return
		}
		w.Write([]byte(goodDoc))
	})
	e.role = "web"
	if _, err := e.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if proxied.Load() != 0 || calls.Load() != 2 {
		t.Fatalf("proxy saw %d requests, metadata service %d; want 0 and 2", proxied.Load(), calls.Load())
	}
	// The production transport has no proxy function at all.
	if newECSRAMRole("", false).client.Transport.(*http.Transport).Proxy != nil {
		t.Fatal("the metadata transport has a Proxy function")
	}
}

// TestECSRAMRoleDeadline: a metadata service that never answers is bounded by the caller's deadline.
func TestECSRAMRoleDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	e, _ := metadataFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	e.role = "web"
	e.imdsv1Disabled = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Credentials(ctx); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}
