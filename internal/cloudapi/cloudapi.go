// Package cloudapi holds what every Alibaba Cloud API call of the helper shares: endpoint
// resolution and the check of overrides (endpoint.go), an HTTP client with hard timeouts, retries
// of transient failures inside the command's deadline with a per-call policy ([Retry]), typed API
// errors and scrubbing of secrets from error text (errors.go).
//
// The SDK clients (cr-20181201, sts-20150401) are used for their request models and signing; every
// call goes through [Call], which adds the context, the retry policy and the error mapping the
// generated methods lack.
package cloudapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

// Timeouts for one HTTP exchange. The whole command has its own, longer deadline in the context.
const (
	connectTimeout = 5 * time.Second
	readTimeout    = 10 * time.Second
)

// Config returns an openapi configuration for endpoint with the helper's timeouts and HTTP client.
// Credentials are set by the caller.
func Config(e Endpoint, region string) *openapi.Config {
	return &openapi.Config{
		Endpoint:       dara.String(e.Host),
		Protocol:       dara.String(e.Scheme),
		RegionId:       dara.String(region),
		ConnectTimeout: dara.Int(int(connectTimeout / time.Millisecond)),
		ReadTimeout:    dara.Int(int(readTimeout / time.Millisecond)),
		HttpClient:     httpClient{clientFor(e.RootCAs)},
		UserAgent:      dara.String("docker-credential-acr"),
	}
}

// sharedClient is the one HTTP client of the process. It honours HTTPS_PROXY/NO_PROXY the way Go
// does (never for loopback), which is what users behind a proxy expect; the SDK's own transport
// would match NO_PROXY against host:port only.
// Every response body it reads is bounded by maxBody; the request's context (the command's
// deadline) interrupts a body that trickles.
var sharedClient = &http.Client{
	Transport: boundedTransport{&http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: readTimeout,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}},
	Timeout: connectTimeout + readTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // an API never redirects; a redirect is not followed with a signature
	},
}

// HTTPClient is the helper's HTTP client, for the few plain requests it makes (registry challenge).
func HTTPClient() *http.Client { return sharedClient }

type httpClient struct{ c *http.Client }

// Call implements dara.HttpClient; the SDK's transport (and its proxy handling) is ignored. It
// notes the HTTP status for the caller: the SDK hides it when the body is not JSON (a load
// balancer's 502 page), and a 5xx must still be retried.
func (h httpClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	resp, err := h.c.Do(req)
	if info, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok && resp != nil {
		info.status = resp.StatusCode
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			info.date = d
		}
	}
	return resp, err
}

type callInfoKey struct{}

// callInfo is what the HTTP client saw of one call.
type callInfo struct {
	status   int
	date     time.Time // the answer's Date header
	tooLarge bool      // a response body went past maxBody
}

// Request names one API call for Call.
type Request struct {
	Service  string // for messages
	Endpoint Endpoint
	Params   *openapi.Params
	Query    map[string]*string
	// RPC uses the legacy RPC request path (needed for anonymous AssumeRoleWithOIDC).
	LegacyRPC bool
	// Retry is the retry policy; the zero value is the production one.
	Retry Retry
}

// Caller is the part of the SDK client that Call needs.
type Caller interface {
	CallApiWithCtx(ctx context.Context, params *openapi.Params, request *openapi.OpenApiRequest, runtime *dara.RuntimeOptions) (map[string]interface{}, error)
	DoRPCRequestWithCtx(ctx context.Context, action *string, version *string, protocol *string, method *string, authType *string, bodyType *string, request *openapi.OpenApiRequest, runtime *dara.RuntimeOptions) (map[string]interface{}, error)
}

// Retry is the retry policy of a call. The zero Retry is the production policy; tests set a
// short Backoff from their own files (there is no global to change, and no setting that could
// shorten it in production).
type Retry struct {
	// Backoff is the pause before retry attempt n (1-based); nil is [defaultBackoff].
	Backoff func(n int) time.Duration
}

func (r Retry) pause(n int) time.Duration {
	if r.Backoff != nil {
		return r.Backoff(n)
	}
	return defaultBackoff(n)
}

// defaultBackoff is 200ms doubling to at most 2s, with jitter: a pause in [base/2, base].
func defaultBackoff(n int) time.Duration {
	base := 200 * time.Millisecond << (n - 1)
	if base > 2*time.Second {
		base = 2 * time.Second
	}
	return base/2 + rand.N(base/2+1)
}

// maxAttempts bounds retries of transient failures; the context deadline bounds them too.
const maxAttempts = 4

// Result is the answer of a successful call.
type Result struct {
	Body map[string]any // the decoded JSON body
	// ServerDate is the answer's Date header, the service's clock when it answered; zero if the
	// answer had none. A lifetime the service states (a token's expiry) is measured against it,
	// not against the local clock, which may be hours off.
	ServerDate time.Time
}

// Call performs req with c, retrying transient failures with jittered backoff while the context
// allows, and returns the decoded JSON body.
func Call(ctx context.Context, c Caller, req Request) (map[string]any, error) {
	r, err := CallResult(ctx, c, req)
	return r.Body, err
}

// CallResult is Call that also returns what the answer says besides its body.
func CallResult(ctx context.Context, c Caller, req Request) (Result, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		r, err := callOnce(ctx, c, req)
		if err == nil {
			return r, nil
		}
		lastErr = err
		if !retryable(err) || attempt >= maxAttempts || ctx.Err() != nil {
			break
		}
		pause := req.Retry.pause(attempt)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < pause {
			break
		}
		select {
		case <-ctx.Done():
			return Result{}, lastErr
		case <-time.After(pause):
		}
	}
	return Result{}, lastErr
}

func callOnce(ctx context.Context, c Caller, req Request) (_ Result, err error) {
	defer func() {
		// The generated SDK code converts with reflection and type assertions; a malformed
		// response must be an error, never a crash of the helper.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s %s: malformed response from %s", req.Service, dara.StringValue(req.Params.Action), req.Endpoint)
		}
	}()
	oreq := &openapi.OpenApiRequest{Query: req.Query}
	rt := &dara.RuntimeOptions{}
	info := &callInfo{}
	ctx = context.WithValue(ctx, callInfoKey{}, info)
	var res map[string]any
	if req.LegacyRPC {
		p := req.Params
		res, err = c.DoRPCRequestWithCtx(ctx, p.Action, p.Version, p.Protocol, p.Method, p.AuthType, p.BodyType, oreq, rt)
	} else {
		res, err = c.CallApiWithCtx(ctx, req.Params, oreq, rt)
	}
	if err != nil {
		return Result{}, classify(ctx, req, err, info)
	}
	b, ok := res["body"].(map[string]any)
	if !ok {
		return Result{}, fmt.Errorf("%s %s: response from %s has no JSON object body", req.Service, dara.StringValue(req.Params.Action), req.Endpoint)
	}
	return Result{Body: b, ServerDate: info.date}, nil
}

func retryable(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Transient()
	}
	var te *TransportError
	if errors.As(err, &te) {
		if errors.Is(te.Err, context.DeadlineExceeded) {
			return false
		}
		return true // resets, refused connections, timeouts of one exchange
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
