package fakecloud

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

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
