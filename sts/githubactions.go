package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// GitHub Actions hands a job with `permissions: id-token: write` two variables: a URL that issues
// OIDC ID tokens for the job and a bearer token that authorises the request. The helper asks for
// the ID token itself (audience sts.aliyuncs.com unless overridden) and exchanges it with
// AssumeRoleWithOIDC, so a workflow needs no glue step and stores no secret.
const (
	envGitHubTokenURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	envGitHubTokenToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// defaultOIDCAudience is the audience RAM's OIDC providers for CI usually trust.
	defaultOIDCAudience = "sts.aliyuncs.com"
)

// githubActionsOIDC is the OIDC source of a GitHub Actions job: each call asks the job's token
// service for a fresh ID token. Its identity is never the token but what a role's trust policy can
// tell apart (githubJobIdentity) with the role, the provider and the audience: the job's later
// pulls read the cache, and no other job on the same runner does.
func githubActionsOIDC(role, provider, session, requestURL, requestToken, audience, job string, endpoint cloudapi.Endpoint, retry cloudapi.Retry) *OIDC {
	return &OIDC{
		RoleARN: role, ProviderARN: provider, SessionName: session, Endpoint: endpoint, Retry: retry,
		fetch: func(ctx context.Context) (string, error) {
			return githubIDToken(ctx, githubClient, requestURL, requestToken, audience)
		},
		fetchID: "github-actions:" + audience + "\x00" + job,
		label:   "GitHub Actions OIDC token (audience " + audience + ") for role " + role,
	}
}

// githubJobIdentity names the job whose ID token is asked for, from the variables GitHub Actions
// sets in every job: the repository (its id, which a renamed or recreated repository changes,
// and its name), and the run, its attempt and the job. A role's trust policy may accept some of a
// repository's jobs and not others (by branch, environment or workflow, all fixed for a run's
// job), so a token is shared by the steps of one job only: on a persistent self-hosted runner, a
// later job of another repository, or of the same one, asks for its own.
func githubJobIdentity(o ChainOptions) string {
	var b strings.Builder
	for _, k := range []string{"GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB"} {
		b.WriteString(k + "=" + o.env(k) + "\x00")
	}
	return b.String()
}

// githubClient asks the token service: through the environment's proxy (it is an ordinary https
// service on the internet), never following redirects (the request token must not travel on).
var githubClient = &http.Client{
	Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 10 * time.Second},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// githubLoopbackClient asks a token service on this machine (a local runner, tests): never
// through a proxy.
var githubLoopbackClient = &http.Client{
	Transport:     &http.Transport{Proxy: nil, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 10 * time.Second},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// githubIDTokenLimit bounds the answer: an ID token is a few KiB.
const githubIDTokenLimit = 256 << 10

// githubIDToken asks the GitHub Actions token service for an ID token for audience. The request
// token goes only to an https URL (or a loopback one, for tests and local runners) and never
// appears in an error: messages name the URL's host only.
func githubIDToken(ctx context.Context, client *http.Client, requestURL, requestToken, audience string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%s is not a URL; it is set by GitHub Actions for jobs granted the id-token permission (write)", envGitHubTokenURL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && cloudapi.IsLoopback(u.Host)) {
		return "", fmt.Errorf("%s must be an https URL (the request token is a secret), or plain http to localhost or a literal loopback address; got %s://%s", envGitHubTokenURL, u.Scheme, u.Hostname())
	}
	if u.Scheme == "http" {
		// Plain http goes to this machine only, and directly: a proxy would see the token.
		client = githubLoopbackClient
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("building the GitHub Actions ID token request: %v", errors.Unwrap(err))
	}
	req.Header.Set("Authorization", "bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("the GitHub Actions token service at %s did not answer in time: %w", u.Host, ctx.Err())
		}
		return "", fmt.Errorf("the GitHub Actions token service at %s is not reachable", u.Host)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, githubIDTokenLimit+1))
	if err != nil {
		return "", fmt.Errorf("reading the GitHub Actions token service's answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the GitHub Actions token service at %s answered HTTP %d: does the job have the id-token permission (write)?", u.Host, resp.StatusCode)
	}
	if len(body) > githubIDTokenLimit {
		return "", fmt.Errorf("the GitHub Actions token service's answer is over %d KiB", githubIDTokenLimit>>10)
	}
	var doc struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &doc) != nil || strings.Count(doc.Value, ".") != 2 {
		return "", fmt.Errorf("the GitHub Actions token service at %s did not answer with an ID token", u.Host)
	}
	return doc.Value, nil
}
