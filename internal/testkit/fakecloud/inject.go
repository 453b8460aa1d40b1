package fakecloud

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Inject queues faults for action; each matching call consumes one. action is an API action
// ("AssumeRole"), optionally qualified with its version ("GetAuthorizationToken@2016-06-07" is
// only the Personal Edition call; see ActionPersonalToken, ActionEnterpriseToken), or a metadata
// action (MetadataToken, MetadataRoleName, MetadataCredentials). A qualified queue is consulted
// before the plain one. Faults apply to calls that passed authentication.
func (s *Server) Inject(action string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], faults...)
}

// InjectPersistent applies f to every matching call (after queued faults run out) until
// ClearFaults.
func (s *Server) InjectPersistent(action string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky[action] = f
}

// ClearFaults drops queued and persistent faults of action ("" clears all).
func (s *Server) ClearFaults(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == "" {
		s.faults = map[string][]Fault{}
		s.sticky = map[string]Fault{}
		return
	}
	delete(s.faults, action)
	delete(s.sticky, action)
}

// PendingFaults reports how many queued faults of action are not used yet.
func (s *Server) PendingFaults(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[action])
}

func (s *Server) takeFault(keys ...string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if q := s.faults[k]; len(q) > 0 {
			f := q[0]
			if len(q) == 1 {
				delete(s.faults, k)
			} else {
				s.faults[k] = q[1:]
			}
			return f, true
		}
	}
	for _, k := range keys {
		if f, ok := s.sticky[k]; ok {
			return f, true
		}
	}
	return Fault{}, false
}

// applyFault turns the answer res of a call into what fault f makes of it.
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
