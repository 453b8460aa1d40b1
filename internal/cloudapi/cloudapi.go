// Package cloudapi holds what every Alibaba Cloud API call of the helper shares: endpoint
// resolution, an HTTP client with hard timeouts, retries of transient failures inside the command's
// deadline, typed API errors and scrubbing of secrets from error text.
//
// The SDK clients (cr-20181201, sts-20150401) are used for their request models and signing; every
// call goes through [Call], which adds the context, the retry policy and the error mapping the
// generated methods lack.
package cloudapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
)

// Timeouts for one HTTP exchange. The whole command has its own, longer deadline in the context.
const (
	ConnectTimeout = 5 * time.Second
	ReadTimeout    = 10 * time.Second
)

// Endpoint is where an API is served.
type Endpoint struct {
	Host   string // host[:port]
	Scheme string // "https", or "http" for loopback hosts only
}

func (e Endpoint) String() string { return e.Scheme + "://" + e.Host }

// ResolveEndpoint builds the endpoint of product ("cr" or "sts") in region. An override (from the
// config file or the environment) is "host[:port]", "https://host[:port]" or, for loopback hosts
// only, "http://host[:port]"; "{region}" in it is replaced by the region. Without an override the
// public endpoint "<product>.<region>.aliyuncs.com" is used, or "<product>-vpc.<region>…" with vpc.
func ResolveEndpoint(override, product, region string, vpc bool) (Endpoint, error) {
	if override == "" {
		if region == "" {
			return Endpoint{}, fmt.Errorf("no region known for the %s endpoint", product)
		}
		p := product
		if vpc {
			p += "-vpc"
		}
		return Endpoint{Host: p + "." + region + ".aliyuncs.com", Scheme: "https"}, nil
	}
	raw := strings.TrimSpace(override)
	if strings.Contains(raw, "{region}") {
		if region == "" {
			return Endpoint{}, fmt.Errorf("%s endpoint %q needs a region, and none is known", product, raw)
		}
		raw = strings.ReplaceAll(raw, "{region}", region)
	}
	e := Endpoint{Scheme: "https"}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "https://"):
		raw = raw[len("https://"):]
	case strings.HasPrefix(lower, "http://"):
		raw = raw[len("http://"):]
		e.Scheme = "http"
	}
	raw = strings.TrimSuffix(strings.ToLower(raw), "/")
	if _, err := acr.ParseHostPort(raw); err != nil { // the helper's one host grammar
		return Endpoint{}, fmt.Errorf("%s endpoint %q is not host[:port]: write it like cr.cn-hangzhou.aliyuncs.com or https://host:port", product, override)
	}
	e.Host = raw
	if e.Scheme == "http" && !IsLoopback(e.Host) {
		return Endpoint{}, fmt.Errorf("%s endpoint %q uses plain http, which is allowed only for loopback hosts: use https", product, override)
	}
	return e, nil
}

// IsLoopback reports whether host[:port] names the loopback interface.
func IsLoopback(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// Config returns an openapi configuration for endpoint with the helper's timeouts and HTTP client.
// Credentials are set by the caller.
func Config(e Endpoint, region string) *openapi.Config {
	return &openapi.Config{
		Endpoint:       dara.String(e.Host),
		Protocol:       dara.String(e.Scheme),
		RegionId:       dara.String(region),
		ConnectTimeout: dara.Int(int(ConnectTimeout / time.Millisecond)),
		ReadTimeout:    dara.Int(int(ReadTimeout / time.Millisecond)),
		HttpClient:     httpClient{sharedClient},
		UserAgent:      dara.String("docker-credential-acr"),
	}
}

// sharedClient is the one HTTP client of the process. It honours HTTPS_PROXY/NO_PROXY the way Go
// does (never for loopback), which is what users behind a proxy expect; the SDK's own transport
// would match NO_PROXY against host:port only.
var sharedClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: ReadTimeout,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	},
	Timeout: ConnectTimeout + ReadTimeout,
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
	}
	return resp, err
}

type callInfoKey struct{}

// callInfo is what the HTTP client saw of one call.
type callInfo struct{ status int }

// Error is a failed Alibaba Cloud API call, as the service reported it.
type Error struct {
	Service    string // "cr", "sts"
	Action     string
	StatusCode int    // HTTP status, 0 if the body said IsSuccess=false with 200
	Code       string // e.g. "NoPermission"
	Message    string
	RequestID  string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s failed: %s", e.Service, e.Action, e.Code)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if m := strings.TrimSpace(e.Message); m != "" {
		msg += ": " + m
	}
	if e.RequestID != "" {
		msg += " [RequestId " + e.RequestID + "]"
	}
	return Scrub(msg)
}

// Transient reports whether a retry may succeed: server errors and throttling.
func (e *Error) Transient() bool {
	return e.StatusCode >= 500 || strings.HasPrefix(e.Code, "Throttling") || e.Code == "ServiceUnavailable"
}

// responseError is what the darabonba error types (ClientError, ServerError, ThrottlingError) have.
type responseError interface {
	GetStatusCode() *int
	GetCode() *string
	GetMessage() *string
	GetRequestId() *string
}

// TransportError is a failure to talk to the API at all.
type TransportError struct {
	Service, Action string
	Endpoint        string
	Err             error
}

func (e *TransportError) Error() string {
	return Scrub(fmt.Sprintf("%s %s: cannot reach %s: %v", e.Service, e.Action, e.Endpoint, e.Err))
}
func (e *TransportError) Unwrap() error { return e.Err }

// Request names one API call for Call.
type Request struct {
	Service  string // for messages
	Endpoint Endpoint
	Params   *openapi.Params
	Query    map[string]*string
	// RPC uses the legacy RPC request path (needed for anonymous AssumeRoleWithOIDC).
	LegacyRPC bool
}

// Caller is the part of the SDK client that Call needs.
type Caller interface {
	CallApiWithCtx(ctx context.Context, params *openapi.Params, request *openapi.OpenApiRequest, runtime *dara.RuntimeOptions) (map[string]interface{}, error)
	DoRPCRequestWithCtx(ctx context.Context, action *string, version *string, protocol *string, method *string, authType *string, bodyType *string, request *openapi.OpenApiRequest, runtime *dara.RuntimeOptions) (map[string]interface{}, error)
}

// Backoff is the pause before retry attempt n (1-based); tests may shorten it.
var Backoff = func(n int) time.Duration {
	base := 200 * time.Millisecond << (n - 1)
	if base > 2*time.Second {
		base = 2 * time.Second
	}
	return base/2 + rand.N(base/2+1) // jitter: [base/2, base]
}

// MaxAttempts bounds retries of transient failures; the context deadline bounds them too.
const MaxAttempts = 4

// Call performs req with c, retrying transient failures with jittered backoff while the context
// allows, and returns the decoded JSON body.
func Call(ctx context.Context, c Caller, req Request) (map[string]any, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		body, err := callOnce(ctx, c, req)
		if err == nil {
			return body, nil
		}
		lastErr = err
		if !retryable(err) || attempt >= MaxAttempts || ctx.Err() != nil {
			break
		}
		pause := Backoff(attempt)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < pause {
			break
		}
		select {
		case <-ctx.Done():
			return nil, lastErr
		case <-time.After(pause):
		}
	}
	return nil, lastErr
}

func callOnce(ctx context.Context, c Caller, req Request) (body map[string]any, err error) {
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
		return nil, classify(ctx, req, err, info.status)
	}
	b, ok := res["body"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s: response from %s has no JSON object body", req.Service, dara.StringValue(req.Params.Action), req.Endpoint)
	}
	return b, nil
}

func classify(ctx context.Context, req Request, err error, status int) error {
	action := dara.StringValue(req.Params.Action)
	var re responseError
	if errors.As(err, &re) && re.GetStatusCode() != nil {
		return &Error{
			Service:    req.Service,
			Action:     action,
			StatusCode: dara.IntValue(re.GetStatusCode()),
			Code:       dara.StringValue(re.GetCode()),
			Message:    trimSDKMessage(dara.StringValue(re.GetMessage())),
			RequestID:  dara.StringValue(re.GetRequestId()),
		}
	}
	if ctx.Err() != nil {
		return &TransportError{Service: req.Service, Action: action, Endpoint: req.Endpoint.String(),
			Err: fmt.Errorf("gave up when the command's deadline passed (DOCKER_CREDENTIAL_ACR_TIMEOUT): %w", context.DeadlineExceeded)}
	}
	// The context-aware SDK paths wrap service errors into *tea.SDKError.
	var te *tea.SDKError
	if errors.As(err, &te) && tea.IntValue(te.StatusCode) != 0 {
		return &Error{
			Service:    req.Service,
			Action:     action,
			StatusCode: tea.IntValue(te.StatusCode),
			Code:       tea.StringValue(te.Code),
			Message:    trimSDKMessage(tea.StringValue(te.Message)),
			RequestID:  requestID(tea.StringValue(te.Data)),
		}
	}
	if status >= 400 {
		// An error page that is not the service's JSON (a gateway's HTML).
		return &Error{Service: req.Service, Action: action, StatusCode: status, Code: fmt.Sprintf("HTTP%d", status),
			Message: "the endpoint answered " + http.StatusText(status) + " without a service error body"}
	}
	if msg := err.Error(); strings.Contains(msg, "invalid character") || strings.Contains(msg, "unexpected end of JSON") || strings.Contains(msg, "unexpected EOF") && !strings.Contains(msg, "connection") {
		return fmt.Errorf("%s %s: malformed JSON from %s", req.Service, action, req.Endpoint)
	}
	return &TransportError{Service: req.Service, Action: action, Endpoint: req.Endpoint.String(), Err: errors.New(firstLine(Scrub(err.Error())))}
}

// trimSDKMessage drops the SDK's "code: 404, " prefix and its " request id: …" suffix.
func trimSDKMessage(m string) string {
	if strings.HasPrefix(m, "code: ") {
		if i := strings.Index(m, ", "); i > 0 {
			m = m[i+2:]
		}
	}
	if i := strings.LastIndex(m, " request id: "); i >= 0 {
		m = m[:i]
	}
	return m
}

// requestID finds the RequestId in the JSON data of an SDK error.
func requestID(data string) string {
	var d struct {
		RequestID  string `json:"RequestId"`
		RequestID2 string `json:"requestId"`
	}
	if json.Unmarshal([]byte(data), &d) != nil {
		return ""
	}
	if d.RequestID != "" {
		return d.RequestID
	}
	return d.RequestID2
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
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

var secretPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		// query parameters and headers that carry secrets
		regexp.MustCompile(`(?i)(\b(?:SecurityToken|AccessKeySecret|Signature|OIDCToken|x-acs-security-token|x-acs-bearer-token|authorizationToken|password|secret|token)["']?\s*[=:]\s*["']?)[^&\s"',}]+`),
		// an Authorization header value
		regexp.MustCompile(`(?i)(ACS3-HMAC-SHA256 )[^\s"]+`),
	}
})

// Scrub removes secret values from text that may be shown or logged.
func Scrub(s string) string {
	for _, re := range secretPatterns() {
		s = re.ReplaceAllString(s, "${1}***")
	}
	return s
}
