package fakecloud

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Action names accepted by Inject and Count besides the plain API action names.
const (
	// ActionPersonalToken is the Personal Edition GET /tokens (cr 2016-06-07).
	ActionPersonalToken = "GetAuthorizationToken@2016-06-07"
	// ActionEnterpriseToken is cr 2018-12-01 GetAuthorizationToken.
	ActionEnterpriseToken = "GetAuthorizationToken@2018-12-01"
	// Metadata service calls.
	MetadataToken       = "MetadataToken"       // PUT /latest/api/token
	MetadataRoleName    = "MetadataRoleName"    // GET /latest/meta-data/ram/security-credentials/
	MetadataCredentials = "MetadataCredentials" // GET /latest/meta-data/ram/security-credentials/<role>
)

const (
	versionCR2016  = "2016-06-07"
	versionCR2018  = "2018-12-01"
	versionSTS     = "2015-04-01"
	timeLayout     = "2006-01-02T15:04:05Z"
	clockTolerance = 15 * time.Minute
)

// Call is one recorded request.
type Call struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"` // "cr", "sts", "ecs-metadata", or "" when not recognised
	Action  string    `json:"action"`
	Version string    `json:"version,omitempty"`
	// Style is how the call was authenticated: "ACS3" (ACS3-HMAC-SHA256), "RPC-HMAC-SHA1"
	// (legacy signature in the query), "Anonymous", or "Metadata".
	Style  string `json:"style"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Host is the Host header the client sent.
	Host string `json:"host"`
	// AccessKeyID is the key that signed the call (empty for anonymous calls); Principal is the
	// ARN it resolved to (assumed-role ARN for STS keys), empty when authentication failed early.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	Principal   string `json:"principal,omitempty"`
	// Params are the query parameters, plus form-body parameters when the body was a form.
	Params    map[string]string `json:"params,omitempty"`
	Status    int               `json:"status"` // 0 for reset / hang
	ErrorCode string            `json:"errorCode,omitempty"`
	Fault     FaultKind         `json:"fault,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

func (c Call) matches(action string) bool {
	if a, v, ok := strings.Cut(action, "@"); ok {
		return c.Action == a && c.Version == v
	}
	return c.Action == action
}

type reqCtx struct {
	r        *http.Request
	body     []byte
	query    url.Values
	params   map[string]string
	call     Call
	reqID    string
	product  string // for Recommend: "cr" or "Sts"
	region   string // from a cr.<region>.aliyuncs.com Host, else ""
	metadata bool
}

type response struct {
	status      int
	header      http.Header
	body        []byte
	code        string
	fault       FaultKind
	hang, reset bool
	delay       time.Duration
}

// Handler is the API (cr and STS) as an http.Handler, for mounting in your own server.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveAPI) }

func (s *Server) newReqCtx(r *http.Request) *reqCtx {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rc := &reqCtx{r: r, body: body, reqID: newRequestID(), params: map[string]string{}}
	rc.query, _ = url.ParseQuery(r.URL.RawQuery)
	for k, vs := range rc.query {
		if len(vs) > 0 {
			rc.params[k] = vs[0]
		}
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				if _, ok := rc.params[k]; !ok && len(vs) > 0 {
					rc.params[k] = vs[0]
				}
			}
		}
	}
	rc.call = Call{
		Time: time.Now(), Method: r.Method, Path: r.URL.Path, Host: r.Host, RequestID: rc.reqID,
	}
	if len(rc.params) > 0 {
		rc.call.Params = make(map[string]string, len(rc.params))
		for k, v := range rc.params {
			rc.call.Params[k] = v
		}
	}
	return rc
}

var reCRHost = regexp.MustCompile(`^cr(?:-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com(?::[0-9]+)?$`)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.mu.Lock()
		debug := s.debug
		s.mu.Unlock()
		if debug {
			s.DebugHandler().ServeHTTP(w, r)
			return
		}
	}
	rc := s.newReqCtx(r)
	res := s.route(rc)
	s.finish(w, rc, res)
}

func (s *Server) route(rc *reqCtx) *response {
	r := rc.r
	var action, version, style string
	switch {
	case r.Header.Get("Authorization") != "":
		style = "ACS3"
		action, version = r.Header.Get("x-acs-action"), r.Header.Get("x-acs-version")
	case rc.params["Signature"] != "":
		style = "RPC-HMAC-SHA1"
		action, version = rc.params["Action"], rc.params["Version"]
	default:
		style = "Anonymous"
		action, version = rc.params["Action"], rc.params["Version"]
		if action == "" {
			action, version = r.Header.Get("x-acs-action"), r.Header.Get("x-acs-version")
		}
	}
	personal := r.Method == http.MethodGet && r.URL.Path == "/tokens" && version == versionCR2016
	if personal {
		action = "GetAuthorizationToken"
	}
	rc.call.Action, rc.call.Version, rc.call.Style = action, version, style
	if m := reCRHost.FindStringSubmatch(r.Host); m != nil {
		rc.region = m[1]
	}

	var handler func(*reqCtx, *principal) *response
	switch {
	case personal:
		rc.product, rc.call.Service = "cr", "cr"
		handler = s.crPersonalToken
	case version == versionCR2018 && r.URL.Path == "/":
		rc.product, rc.call.Service = "cr", "cr"
		switch action {
		case "GetAuthorizationToken":
			handler = s.crGetAuthorizationToken
		case "ListInstance":
			handler = s.crListInstance
		case "GetInstance":
			handler = s.crGetInstance
		case "ListInstanceEndpoint":
			handler = s.crListInstanceEndpoint
		}
	case version == versionKMS && r.URL.Path == "/":
		rc.product, rc.call.Service = "Kms", "kms"
		handler = s.kmsHandler(action)
	case version == versionSTS && r.URL.Path == "/":
		rc.product, rc.call.Service = "Sts", "sts"
		switch action {
		case "AssumeRole":
			handler = s.stsAssumeRole
		case "AssumeRoleWithOIDC":
			handler = s.stsAssumeRoleWithOIDC
		case "GetCallerIdentity":
			handler = s.stsGetCallerIdentity
		}
	}
	if handler == nil {
		rc.call.Service = ""
		return s.apiError(rc, http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}

	var p *principal
	var errRes *response
	switch style {
	case "ACS3":
		p, errRes = s.authACS3(rc)
	case "RPC-HMAC-SHA1":
		p, errRes = s.authLegacy(rc)
	default:
		if action != "AssumeRoleWithOIDC" {
			return s.apiError(rc, http.StatusBadRequest, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.")
		}
		errRes = s.checkAnonymous(rc)
	}
	if errRes != nil {
		return errRes
	}
	if p != nil {
		rc.call.Principal = p.arn
	}

	fault, hasFault := s.takeFault(action+"@"+version, action)
	if hasFault && (fault.Kind == FaultKindReset || fault.Kind == FaultKindHang) {
		return s.applyFault(rc, &response{}, fault)
	}
	res := handler(rc, p)
	if hasFault {
		res = s.applyFault(rc, res, fault)
	}
	return res
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	fn := s.onCall
	s.mu.Unlock()
	if fn != nil {
		fn(c)
	}
}

func (s *Server) finish(w http.ResponseWriter, rc *reqCtx, res *response) {
	s.mu.Lock()
	delay := s.latency + res.delay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.closing:
		case <-rc.r.Context().Done():
		}
		t.Stop()
	}
	rc.call.Status, rc.call.ErrorCode, rc.call.Fault = res.status, res.code, res.fault
	if res.hang || res.reset {
		rc.call.Status = 0
	}
	s.record(rc.call)
	if res.hang {
		select {
		case <-s.closing:
		case <-rc.r.Context().Done():
		}
		// Leave without an answer: drop the connection rather than let net/http send a 200.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	if res.reset {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				resetConn(c)
				return
			}
		}
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	for k, vs := range res.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	if !rc.metadata {
		w.Header().Set("x-acs-request-id", rc.reqID)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

// resetConn closes c with SO_LINGER 0 so that the peer sees a TCP reset.
func resetConn(c net.Conn) {
	type netConner interface{ NetConn() net.Conn }
	raw := c
	if nc, ok := c.(netConner); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = raw.Close()
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

func jsonResponse(status int, v any) *response {
	return &response{status: status, body: marshal(v)}
}

// apiError is the gateway's error shape: {"Code","Message","RequestId","HostId","Recommend"}.
func (s *Server) apiError(rc *reqCtx, status int, code, message string) *response {
	return s.apiErrorWith(rc, status, code, message, nil)
}

func (s *Server) apiErrorWith(rc *reqCtx, status int, code, message string, extra map[string]any) *response {
	product := rc.product
	if product == "" {
		product = "cr"
	}
	body := map[string]any{
		"Code":      code,
		"Message":   message,
		"RequestId": rc.reqID,
		"HostId":    rc.r.Host,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(code) + "&product=" + product,
	}
	for k, v := range extra {
		body[k] = v
	}
	res := jsonResponse(status, body)
	res.code = code
	return res
}

const tengine502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>Tengine</center>
</body>
</html>
`

func defaultErrorFor(status int) (string, string) {
	switch status {
	case 400:
		return "InvalidParameter", "The specified parameter is not valid."
	case 403:
		return "Forbidden", "You are not authorized to do this operation."
	case 404:
		return "NotFound", "The specified resource is not found."
	case 429:
		return "Throttling", "Request was denied due to request throttling."
	case 500:
		return "InternalError", "The request processing has failed due to some unknown error, exception or failure."
	case 503:
		return "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
	}
	return "UnknownError", "The request processing has failed due to some unknown error."
}

func (s *Server) applyFault(rc *reqCtx, res *response, f Fault) *response {
	out := res
	switch f.Kind {
	case FaultKindStatus, FaultKindAPIError, FaultKindThrottling:
		st := f.Status
		code, msg := f.Code, f.Message
		switch f.Kind {
		case FaultKindStatus:
			if st == 0 {
				st = 500
			}
			if st == http.StatusBadGateway || st == http.StatusGatewayTimeout {
				// What the load balancer in front of the API sends: HTML, not JSON.
				body := strings.ReplaceAll(tengine502, "502 Bad Gateway", strconv.Itoa(st)+" "+http.StatusText(st))
				out = &response{status: st, body: []byte(body), header: http.Header{"Content-Type": {"text/html"}}}
				break
			}
			dc, dm := defaultErrorFor(st)
			if code == "" {
				code = dc
			}
			if msg == "" {
				msg = dm
			}
			out = s.errorOrText(rc, st, code, msg)
		case FaultKindAPIError:
			if st == 0 {
				st = 400
			}
			out = s.errorOrText(rc, st, code, msg)
		case FaultKindThrottling:
			if st == 0 {
				st = 400
			}
			if code == "" {
				code = "Throttling.User"
			}
			if msg == "" {
				switch code {
				case "Throttling.User":
					msg = "Request was denied due to user flow control."
				case "Throttling.Api":
					msg = "Request was denied due to api flow control."
				default:
					msg = "Request was denied due to request throttling."
				}
			}
			out = s.errorOrText(rc, st, code, msg)
			if out.header == nil {
				out.header = http.Header{}
			}
			out.header.Set("x-ratelimit-user-api", "Limit:100,Remain:0,TimeLeft:1000,Reset:1000")
			out.header.Set("x-ratelimit-user", "Limit:1000,Remain:0,TimeLeft:1000,Reset:1000")
		}
	case FaultKindReset:
		out = &response{reset: true}
	case FaultKindHang:
		out = &response{hang: true}
	case FaultKindMalformed:
		out = &response{status: http.StatusOK, header: http.Header{"Content-Type": {"text/html"}},
			body: []byte("<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>try again later</body></html>")}
	case FaultKindTruncated:
		out = &response{status: res.status, header: res.header, body: res.body[:len(res.body)/2], code: res.code}
	case FaultKindMissing:
		var m map[string]any
		if err := json.Unmarshal(res.body, &m); err == nil {
			for _, path := range f.Fields {
				deletePath(m, strings.Split(path, "."))
			}
			out = &response{status: res.status, header: res.header, body: marshal(m), code: res.code}
		}
	case FaultKindNotSuccess:
		code := f.Code
		if code == "" {
			code = "INSTANCE_NOT_EXIST"
		}
		msg := f.Message
		if msg == "" {
			msg = strings.ToLower(strings.ReplaceAll(code, "_", " ")) + "."
		}
		out = jsonResponse(http.StatusOK, map[string]any{
			"IsSuccess": false, "Code": code, "Message": msg, "RequestId": rc.reqID,
		})
		out.code = code
	case FaultKindDelay:
		out.delay += f.Delay
	}
	out.fault = f.Kind
	return out
}

func (s *Server) errorOrText(rc *reqCtx, status int, code, msg string) *response {
	if rc.metadata {
		return &response{status: status, code: code, header: http.Header{"Content-Type": {"text/plain"}},
			body: []byte(http.StatusText(status) + "\n")}
	}
	return s.apiError(rc, status, code, msg)
}

func deletePath(m map[string]any, path []string) {
	if len(path) == 0 {
		return
	}
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		deletePath(sub, path[1:])
	}
}
