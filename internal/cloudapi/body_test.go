package cloudapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

func TestBoundedBody(t *testing.T) {
	for _, tt := range []struct {
		size    int
		wantErr error
	}{{0, nil}, {100, nil}, {maxBody, nil}, {maxBody + 1, errBodyTooLarge}, {3 * maxBody, errBodyTooLarge}} {
		info := &callInfo{}
		b := &boundedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, tt.size))), left: maxBody, info: info}
		data, err := io.ReadAll(b)
		if !errors.Is(err, tt.wantErr) || err == nil && len(data) != tt.size || len(data) > maxBody || info.tooLarge != (tt.wantErr != nil) {
			t.Errorf("size %d: read %d, err %v, tooLarge %v", tt.size, len(data), err, info.tooLarge)
		}
	}
}

// endless serves a JSON body that never ends: 64 KiB chunks as fast as the client reads (up to
// limit, then it stalls), or one byte per tick.
func endless(t *testing.T, status int, limit int64, tick time.Duration) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"Code":"`)
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		if tick > 0 {
			chunk = chunk[:1]
		}
		for sent := int64(0); sent < limit; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if tick > 0 {
				select {
				case <-time.After(tick):
				case <-r.Context().Done():
					return
				}
			}
		}
		<-r.Context().Done()
	}))
	t.Cleanup(func() { s.CloseClientConnections(); s.Close() })
	return s
}

func sdkClient(t *testing.T, srv *httptest.Server) (*openapi.Client, Endpoint) {
	t.Helper()
	ep, err := ResolveEndpoint(srv.URL, "cr", "cn-hangzhou", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config(ep, "cn-hangzhou")
	cfg.AccessKeyId, cfg.AccessKeySecret = dara.String("LTAI5tBodyTestKey0001"), dara.String("body-test-secret")
	c, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, ep
}

var tokensParams = &openapi.Params{
	Action: dara.String("GetAuthorizationToken"), Version: dara.String("2016-06-07"), Protocol: dara.String("HTTPS"),
	Pathname: dara.String("/tokens"), Method: dara.String("GET"), AuthType: dara.String("AK"),
	Style: dara.String("ROA"), ReqBodyType: dara.String("json"), BodyType: dara.String("json"),
}

// TestCallBoundsEndlessBodies: an answer (success or error page) that never ends is refused at
// the bound without being retried, with little memory; one that trickles ends at the deadline.
func TestCallBoundsEndlessBodies(t *testing.T) {
	for _, status := range []int{200, 500} {
		c, ep := sdkClient(t, endless(t, status, 256<<20, 0))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := Call(ctx, c, Request{Service: "cr", Endpoint: ep, Params: tokensParams, Retry: Retry{Backoff: func(int) time.Duration { return time.Millisecond }}})
		cancel()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("HTTP %d endless body: err %v; %d MiB allocated", status, err, alloc>>20)
		if err == nil || !strings.Contains(err.Error(), "larger than 2 MiB") {
			t.Errorf("HTTP %d: err = %v", status, err)
		}
		if alloc > 64<<20 {
			t.Errorf("HTTP %d: %d MiB allocated reading the answer", status, alloc>>20)
		}
	}
	c, ep := sdkClient(t, endless(t, 200, 1<<40, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	t0 := time.Now()
	_, err := Call(ctx, c, Request{Service: "cr", Endpoint: ep, Params: tokensParams})
	t.Logf("trickling body, 1s deadline: %v after %v", err, time.Since(t0))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("trickle: err = %v, want the deadline", err)
	}
}
