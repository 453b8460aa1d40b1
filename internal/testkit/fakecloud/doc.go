// Package fakecloud is a local fake of the Alibaba Cloud APIs docker-credential-acr talks to,
// faithful to the wire format so that passing against it means something. It listens on
// 127.0.0.1 only and never forwards anything off the machine.
//
// What it serves, on one http.Handler (Server.Handler), dispatching on the x-acs-action and
// x-acs-version headers, on the path for ROA, or on the Action query parameter for legacy RPC:
//
//   - Container Registry Personal Edition, cr 2016-06-07 ROA: GET /tokens →
//     {"data":{"authorizationToken","tempUserName","expireDate"},"requestId"}; 404 USER_NOT_EXIST
//     (lower-case body keys, as the product sends) for a RAM user without a registry password.
//   - Container Registry Enterprise Edition, cr 2018-12-01 RPC: GetAuthorizationToken,
//     ListInstance (fuzzy name filter, paging), GetInstance, ListInstanceEndpoint, with the
//     field names and types of the cr-20181201 v2.5.0 response structs.
//   - STS 2015-04-01: AssumeRole, AssumeRoleWithOIDC (unsigned), GetCallerIdentity.
//   - An ECS metadata service behind a forward proxy (Server.MetadataProxyURL) for
//     http://100.100.100.200 only: IMDSv2 token, role name, role credentials.
//   - Challenge: a registry /v2/ 401 challenge for region/edition discovery.
//
// What it verifies: ACS3-HMAC-SHA256 exactly as darabonba-openapi v2.1.13 computes it
// (canonical request over method, path, sorted query, host + every x-acs-* header, body hash),
// x-acs-content-sha256 against the body, x-acs-date within 15 minutes, x-acs-signature-nonce
// present and not reused; the legacy RPC HMAC-SHA1 signature (credentials-go's RAM-role
// provider); STS keys need their x-acs-security-token (or SecurityToken) and expire; role trust
// (accounts, principals, ExternalId), DurationSeconds bounds, per-principal RAM denials, OIDC
// tokens registered per (provider, role) with expiry.
//
// Errors use the gateway's shape, {"Code","Message","RequestId","HostId","Recommend"} with a
// 4xx/5xx status, which darabonba turns into *tea.SDKError with Code and StatusCode set.
//
// A test builds the world, starts the fake and points the real SDK clients at it:
//
//	fc := fakecloud.New()
//	fc.AddUser(fakecloud.User{AccountID: "1234567890123456", Name: "ci", AccessKeyID: "LTAI…", AccessKeySecret: "…"})
//	fc.AddInstance(fakecloud.Instance{AccountID: "1234567890123456", ID: "cri-…", Name: "acme", Region: "cn-hangzhou"})
//	if err := fc.Start(); err != nil { … }
//	defer fc.Close()
//	// openapi.Config{Endpoint: tea.String(fc.Endpoint()), Protocol: tea.String("http"), …}
//
// Observability: Calls (action, version, signing AccessKeyId, principal, Host, parameters,
// status, error code), Count, IssuedTokens. Fault injection per action: Inject queues faults
// (HTTP 5xx, connection reset, throttling, hang, malformed/truncated JSON, missing fields,
// IsSuccess=false, delay); InjectPersistent applies one to every call; SetLatency delays all.
//
// cmd/fakecloud runs the same fake as a process, configured from a Scenario JSON file.
package fakecloud
