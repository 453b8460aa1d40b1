package fakecloud

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const (
	versionCR2016  = "2016-06-07"
	versionCR2018  = "2018-12-01"
	versionSTS     = "2015-04-01"
	timeLayout     = "2006-01-02T15:04:05Z"
	clockTolerance = 15 * time.Minute
)

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
