package kubeletapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxInput bounds the request read from stdin. A request is an image reference, a
	// service-account token and a few annotations: a few kilobytes.
	MaxInput    = 1 << 20
	maxImageLen = 4096
)

// Request is a CredentialProviderRequest.
type Request struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// RequestError is a request the plugin cannot answer: not JSON, not a
// CredentialProviderRequest, an unsupported apiVersion, no image, too large, or never finished.
type RequestError struct{ Reason string }

func (e *RequestError) Error() string {
	return "kubelet credential provider (Alibaba Cloud ACR): bad CredentialProviderRequest on stdin: " + e.Reason
}

func badRequest(format string, a ...any) error {
	return &RequestError{Reason: fmt.Sprintf(format, a...)}
}

// ReadRequest reads a request from in to its end and decodes it (DecodeRequest), bounded in
// size (MaxInput) and time (the context's deadline): a reader that never ends (stdin of a
// terminal) must not hold the kubelet's pull for a minute. Errors are *RequestError.
func ReadRequest(ctx context.Context, in io.Reader) (Request, error) {
	type result struct {
		data []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(in, MaxInput+1))
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return Request{}, badRequest("reading stdin: %v", r.err)
		}
		if len(r.data) > MaxInput {
			return Request{}, badRequest("larger than %d bytes; a CredentialProviderRequest is a few kilobytes", MaxInput)
		}
		return DecodeRequest(r.data)
	case <-ctx.Done():
		return Request{}, badRequest("stdin did not end in time (%v): the kubelet writes one request and closes stdin", context.Cause(ctx))
	}
}

// DecodeRequest parses a CredentialProviderRequest: one JSON object with apiVersion (v1, v1beta1
// or v1alpha1 of credentialprovider.kubelet.k8s.io), kind CredentialProviderRequest and a
// non-empty image; serviceAccountToken and serviceAccountAnnotations are optional. Field names
// match exactly (as the kubelet's own strict decoder does); fields this version does not know
// are ignored, so that a newer kubelet can add some. Errors are *RequestError and never quote
// the token.
func DecodeRequest(data []byte) (Request, error) {
	var req Request
	if len(bytes.TrimSpace(data)) == 0 {
		return req, badRequest("empty input: expected a CredentialProviderRequest (JSON) from the kubelet")
	}
	if !utf8.Valid(data) {
		return req, badRequest("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return req, badRequest("not a JSON object")
		}
		return req, badRequest("not valid JSON: %v", jsonErr(err))
	}
	if fields == nil {
		return req, badRequest("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, badRequest("more than one JSON value")
	}
	str := func(name string, dst *string) error {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return badRequest("%s is not a string", name)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"apiVersion", &req.APIVersion}, {"kind", &req.Kind}, {"image", &req.Image}, {"serviceAccountToken", &req.ServiceAccountToken}} {
		if err := str(f.name, f.dst); err != nil {
			return Request{}, err
		}
	}
	if raw, ok := fields["serviceAccountAnnotations"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req.ServiceAccountAnnotations); err != nil {
			return Request{}, badRequest("serviceAccountAnnotations is not an object of strings")
		}
	}
	switch req.APIVersion {
	case APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1:
	case "":
		return Request{}, badRequest("no apiVersion: want %s (or v1beta1, v1alpha1)", APIVersionV1)
	default:
		return Request{}, badRequest("unsupported apiVersion %q: want %s, %s or %s", truncate(req.APIVersion),
			APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1)
	}
	switch req.Kind {
	case requestKind:
	case "":
		return Request{}, badRequest("no kind: want %s", requestKind)
	default:
		return Request{}, badRequest("kind %q: want %s", truncate(req.Kind), requestKind)
	}
	switch {
	case req.Image == "":
		return Request{}, badRequest("no image")
	case len(req.Image) > maxImageLen:
		return Request{}, badRequest("image longer than %d bytes", maxImageLen)
	case strings.IndexFunc(req.Image, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return Request{}, badRequest("image %q holds whitespace or control characters", truncate(req.Image))
	}
	return req, nil
}

// jsonErr describes a JSON error without quoting the input.
func jsonErr(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated"
	}
	return "unreadable"
}

// ImageRegistry returns the registry host of an image reference as written
// ("registry.cn-hangzhou.aliyuncs.com" of "registry.cn-hangzhou.aliyuncs.com/ns/app:tag",
// "host:5000" of "host:5000/app@sha256:…"). Docker Hub images ("nginx", "library/nginx",
// "user/app": no '.' or ':' in the first part and not localhost) have none: ok is false.
func ImageRegistry(image string) (host string, ok bool) {
	i := strings.IndexByte(image, '/')
	if i <= 0 {
		return "", false
	}
	host = image[:i]
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "", false
	}
	return host, true
}
