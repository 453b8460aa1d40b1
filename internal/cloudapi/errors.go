package cloudapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/internal/terminal"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

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

// Transient reports whether a retry may succeed: server errors and throttling (Throttling.*,
// and KMS's Rejected.Throttling, HTTP 429, in its API reference's error table).
func (e *Error) Transient() bool {
	return e.StatusCode >= 500 || strings.HasPrefix(e.Code, "Throttling") || e.Code == "Rejected.Throttling" ||
		e.StatusCode == 429 || e.Code == "ServiceUnavailable"
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

func classify(ctx context.Context, req Request, err error, info *callInfo) error {
	action := dara.StringValue(req.Params.Action)
	status := info.status
	if isTooLarge(err, info) {
		// Not retried: an endpoint that sends this much is not an Alibaba Cloud API.
		return fmt.Errorf("%s %s: the answer from %s is %v, which no Alibaba Cloud API sends: check the %s endpoint (endpoints: in the config, or its environment variable)",
			req.Service, action, req.Endpoint, errBodyTooLarge, req.Service)
	}
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
	if errors.Is(ctx.Err(), context.Canceled) {
		// The caller cancelled (an embedder's request ended): say so, and keep context.Canceled.
		return &TransportError{Service: req.Service, Action: action, Endpoint: req.Endpoint.String(),
			Err: fmt.Errorf("cancelled by the caller: %w", context.Canceled)}
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
	var cause error = errors.New(Scrub(firstLine(err.Error())))
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		// Kept as a type so that the caller can name the fix (a CA file for that endpoint).
		cause = &scrubbedError{text: cause.Error(), cause: ua}
	}
	return &TransportError{Service: req.Service, Action: action, Endpoint: req.Endpoint.String(), Err: cause}
}

// scrubbedError is an error shown by its scrubbed text that still unwraps to its cause's type.
type scrubbedError struct {
	text  string
	cause error
}

func (e *scrubbedError) Error() string { return e.text }
func (e *scrubbedError) Unwrap() error { return e.cause }

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

var secretPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		// query parameters, headers and JSON members that always carry secrets
		regexp.MustCompile(`(?i)(\b(?:SecurityToken|AccessKeySecret|Signature|OIDCToken|x-acs-security-token|x-acs-bearer-token|authorizationToken)["']?\s*[=:]\s*["']?)[^&\s"',}]+`),
		// an Authorization header value
		regexp.MustCompile(`(?i)(ACS3-HMAC-SHA256 )[^\s"]+`),
	}
})

// genericSecret matches the words password, secret and token followed by a value: the value is
// group 5, the separator group 3, the quotes around it groups 2 and 4.
var genericSecret = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(\b(?:password|secret|token)(["']?)\s*([=:])\s*(["']?))([^&\s"',}]+)`)
})

// proseWord is a word of a sentence: letters only, lower case after the first, short, and
// followed by another word. A value after "password=", a quoted one, one with digits, symbols or
// mixed case, or one that ends the text is never prose.
var proseWord = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z][a-z]{0,11}\s+[A-Za-z(\[]`)
})

// Scrub makes text that may be shown or logged safe: it removes terminal control sequences
// ([terminal.Strip]) and then secret values. After the words password, secret and token the value
// is blanked when it looks like one (a query parameter, a quoted JSON or YAML value, anything but
// a plain word); prose such as "registries[0].secret: an entry …" is left whole, so that an error
// about a secret can still be read.
func Scrub(s string) string {
	s = terminal.Strip(s)
	for _, re := range secretPatterns() {
		s = re.ReplaceAllString(s, "${1}***")
	}
	re := genericSecret()
	if !re.MatchString(s) {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		unquoted := m[4] == m[5] && m[8] == m[9]
		if unquoted && s[m[6]:m[7]] == ":" && (proseWord().MatchString(s[m[10]:]) || s[m[10]:m[11]] == "***") {
			continue
		}
		b.WriteString(s[last:m[10]])
		b.WriteString("***")
		last = m[11]
	}
	b.WriteString(s[last:])
	return b.String()
}
