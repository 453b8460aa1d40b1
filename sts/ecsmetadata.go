package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The ECS instance metadata service lives at one fixed link-local address. It is never reached
// through a proxy: a proxy would see the role's AccessKeySecret and SecurityToken, and a proxy on
// another machine would answer with that machine's role. No setting redirects it.
const metadataBase = "http://100.100.100.200"

// metadataBodyLimit bounds every metadata answer: a credentials document is under 2 KiB.
const metadataBodyLimit = 64 << 10

// ecsRAMRole fetches the credentials of the instance's RAM role from the metadata service:
// IMDSv2 (PUT /latest/api/token, then the token in X-aliyun-ecs-metadata-token) with a fallback to
// IMDSv1 unless that is disabled, as credentials-go does, but direct, bounded and with the expiry
// kept.
type ecsRAMRole struct {
	role           string // "" asks the service for the instance's role name
	imdsv1Disabled bool
	client         *http.Client
}

// metadataTransport dials the metadata service directly. Proxy is nil on purpose (see metadataBase);
// dial is replaceable by tests only, from this package, to reach a loopback fake.
func metadataTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	if dial == nil {
		dial = (&net.Dialer{Timeout: time.Second}).DialContext
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		ResponseHeaderTimeout:  2 * time.Second,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
}

func newECSRAMRole(role string, imdsv1Disabled bool) *ecsRAMRole {
	return &ecsRAMRole{role: role, imdsv1Disabled: imdsv1Disabled, client: &http.Client{
		Transport: metadataTransport(nil),
		// A metadata answer never redirects; following one could leave the link-local address.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Credentials asks the metadata service for the role's temporary credentials.
func (e *ecsRAMRole) Credentials(ctx context.Context) (Credentials, error) {
	token, err := e.token(ctx)
	if err != nil {
		return Credentials{}, err
	}
	role := e.role
	if role == "" {
		body, err := e.get(ctx, "/latest/meta-data/ram/security-credentials/", token)
		if err != nil {
			return Credentials{}, fmt.Errorf("reading the instance's RAM role name: %w", err)
		}
		role = strings.TrimSpace(string(body))
		if role == "" || strings.ContainsAny(role, "/\r\n ") {
			return Credentials{}, errors.New("the metadata service names no RAM role for this instance: attach one to the ECS instance, or set ALIBABA_CLOUD_ECS_METADATA=<role name>")
		}
	}
	body, err := e.get(ctx, "/latest/meta-data/ram/security-credentials/"+role, token)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the credentials of RAM role %q: %w", role, err)
	}
	var doc struct {
		Code            string `json:"Code"`
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string `json:"AccessKeySecret"`
		SecurityToken   string `json:"SecurityToken"`
		Expiration      string `json:"Expiration"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return Credentials{}, fmt.Errorf("the metadata service answered for RAM role %q with something that is not a credentials document", role)
	}
	if doc.Code != "Success" {
		return Credentials{}, fmt.Errorf("the metadata service answered Code %q for RAM role %q", printableCode(doc.Code), role)
	}
	c := Credentials{AccessKeyID: doc.AccessKeyID, AccessKeySecret: doc.AccessKeySecret, SecurityToken: doc.SecurityToken, Source: "ECS RAM role " + role}
	if !c.valid() || c.SecurityToken == "" {
		return Credentials{}, fmt.Errorf("the metadata service's credentials for RAM role %q lack a key or a security token", role)
	}
	if doc.Expiration != "" {
		t, err := time.Parse("2006-01-02T15:04:05Z", doc.Expiration)
		if err != nil {
			return Credentials{}, fmt.Errorf("the metadata service's credentials for RAM role %q have an unreadable Expiration", role)
		}
		c.Expiration = t
	}
	return c, nil
}

// token gets an IMDSv2 session token. Without one the requests go out as IMDSv1, unless IMDSv1 is
// disabled (ALIBABA_CLOUD_IMDSV1_DISABLED), when the failure is the answer.
func (e *ecsRAMRole) token(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, metadataBase+"/latest/api/token", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
	body, err := e.do(req)
	if err == nil {
		tok := strings.TrimSpace(string(body))
		if tok != "" && !strings.ContainsAny(tok, "\r\n") {
			return tok, nil
		}
		err = errors.New("an empty IMDSv2 token")
	}
	if e.imdsv1Disabled {
		return "", fmt.Errorf("getting an IMDSv2 token from the metadata service (IMDSv1 is disabled): %w", err)
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return "", nil
}

func (e *ecsRAMRole) get(ctx context.Context, path, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataBase+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("X-aliyun-ecs-metadata-token", token)
	}
	body, err := e.do(req)
	if err != nil && token != "" && !e.imdsv1Disabled && ctx.Err() == nil {
		req.Header.Del("X-aliyun-ecs-metadata-token")
		return e.do(req)
	}
	return body, err
}

// do sends one request and reads at most metadataBodyLimit bytes of a 200 answer. Error texts
// name the status only: a metadata body is never echoed, it may hold a secret.
func (e *ecsRAMRole) do(req *http.Request) ([]byte, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("the metadata service did not answer in time: %w", req.Context().Err())
		}
		return nil, fmt.Errorf("the metadata service at %s is not reachable (is this an ECS instance?)", metadataBase)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, metadataBodyLimit))
		return nil, fmt.Errorf("the metadata service answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataBodyLimit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the metadata service's answer: %w", err)
	}
	if len(body) > metadataBodyLimit {
		return nil, fmt.Errorf("the metadata service's answer is over %d KiB", metadataBodyLimit>>10)
	}
	return body, nil
}

// printableCode keeps a hostile Code short and free of control characters.
func printableCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
