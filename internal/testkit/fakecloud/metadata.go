package fakecloud

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const metadataHost = "100.100.100.200"

// MetadataProxyHandler is the metadata proxy as an http.Handler. As a forward proxy it serves
// requests for http://100.100.100.200 from the fake metadata service and requests for the fake
// API's own address from the API; it refuses every other host (403) and CONNECT, so nothing ever
// leaves the machine. A plain (non-proxy) request is served by the metadata service directly, so
// `curl http://127.0.0.1:PORT/latest/meta-data/...` works too.
func (s *Server) MetadataProxyHandler() http.Handler { return http.HandlerFunc(s.serveProxy) }

func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		http.Error(w, "fakecloud proxy: CONNECT is not supported; only http://"+metadataHost+" is served", http.StatusForbidden)
		return
	}
	if r.URL.Host == "" { // origin-form: a direct request
		s.serveMetadata(w, r)
		return
	}
	host := r.URL.Host
	if h, port, err := net.SplitHostPort(host); err == nil && port == "80" {
		host = h
	}
	switch {
	case r.URL.Scheme == "http" && host == metadataHost:
		s.serveMetadata(w, r)
	case r.URL.Scheme == "http" && s.isOwnAPI(r.URL.Host):
		s.serveAPI(w, r)
	default:
		http.Error(w, "fakecloud proxy: refusing to contact "+r.URL.Host+": only http://"+metadataHost+" is served", http.StatusForbidden)
	}
}

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	rc := s.newReqCtx(r)
	rc.metadata = true
	rc.call.Service, rc.call.Style = "ecs-metadata", "Metadata"
	res := s.routeMetadata(rc)
	s.finish(w, rc, res)
}

func textResponse(status int, body string) *response {
	return &response{status: status, body: []byte(body), header: http.Header{"Content-Type": {"text/plain"}}}
}

func (s *Server) routeMetadata(rc *reqCtx) *response {
	r := rc.r
	const credPrefix = "/latest/meta-data/ram/security-credentials"
	var action string
	switch {
	case r.URL.Path == "/latest/api/token":
		action = MetadataToken
		if r.Method != http.MethodPut {
			return textResponse(http.StatusMethodNotAllowed, "Method Not Allowed\n")
		}
	case r.URL.Path == credPrefix || r.URL.Path == credPrefix+"/":
		action = MetadataRoleName
	case strings.HasPrefix(r.URL.Path, credPrefix+"/"):
		action = MetadataCredentials
	case r.URL.Path == "/latest/meta-data/region-id":
		action = MetadataRegionID
	default:
		return textResponse(http.StatusNotFound, "Not Found\n")
	}
	rc.call.Action = action

	if action != MetadataToken {
		if r.Method != http.MethodGet {
			return textResponse(http.StatusMethodNotAllowed, "Method Not Allowed\n")
		}
		tok := r.Header.Get("X-aliyun-ecs-metadata-token")
		s.mu.Lock()
		exp, known := s.mdTokens[tok]
		required := s.requireIMDSv2
		s.mu.Unlock()
		switch {
		case tok == "" && required:
			return textResponse(http.StatusForbidden, "Forbidden\n")
		case tok != "" && (!known || !time.Now().Before(exp)):
			return textResponse(http.StatusUnauthorized, "Unauthorized\n")
		}
	}
	fault, hasFault := s.takeFault(action)
	if hasFault && (fault.Kind == FaultKindReset || fault.Kind == FaultKindHang) {
		return s.applyFault(rc, &response{}, fault)
	}
	var res *response
	switch action {
	case MetadataToken:
		res = s.metadataToken(rc)
	case MetadataRoleName:
		res = s.metadataRoleName()
	case MetadataRegionID:
		s.mu.Lock()
		region := s.mdRegion
		s.mu.Unlock()
		res = textResponse(http.StatusNotFound, "Not Found\n")
		if region != "" {
			res = textResponse(http.StatusOK, region)
		}
	default:
		res = s.metadataCredentials(strings.TrimPrefix(r.URL.Path, credPrefix+"/"))
	}
	if hasFault {
		res = s.applyFault(rc, res, fault)
	}
	return res
}

func (s *Server) metadataToken(rc *reqCtx) *response {
	ttl, err := strconv.Atoi(rc.r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > 21600 {
		return textResponse(http.StatusBadRequest, "X-aliyun-ecs-metadata-token-ttl-seconds is missing or invalid\n")
	}
	tok := randAlnum(56)
	s.mu.Lock()
	s.mdTokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
	s.mu.Unlock()
	return textResponse(http.StatusOK, tok)
}

func (s *Server) metadataRoleName() *response {
	s.mu.Lock()
	arn := s.ecsRole
	s.mu.Unlock()
	if arn == "" {
		return textResponse(http.StatusNotFound, "Not Found\n")
	}
	return textResponse(http.StatusOK, arn[strings.Index(arn, ":role/")+len(":role/"):])
}

func (s *Server) metadataCredentials(name string) *response {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ecsRole == "" {
		return textResponse(http.StatusNotFound, "Not Found\n")
	}
	role := s.roles[strings.ToLower(s.ecsRole)]
	if role == nil || !strings.EqualFold(name, role.Name) {
		return textResponse(http.StatusNotFound, "Not Found\n")
	}
	sess := s.ecsSession
	if sess == nil || sess.Expiration.Sub(now) < s.ecsDuration/4 {
		sess = s.newSessionLocked(role, "fakecloud-ecs", now.Add(s.ecsDuration), "", "")
		s.ecsSession = sess
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"AccessKeyId":     sess.AccessKeyID,
		"AccessKeySecret": sess.AccessKeySecret,
		"Expiration":      sess.Expiration.UTC().Format(timeLayout),
		"SecurityToken":   sess.SecurityToken,
		"LastUpdated":     now.UTC().Format(timeLayout),
		"Code":            "Success",
	})
}
