package fakecloud

import (
	"crypto/hmac"
	"net/http"
	"sort"
	"strings"
	"time"
)

type principal struct {
	kind      string // "root", "user", "session"
	accountID string
	arn       string // printed ARN (assumed-role ARN for sessions)
	trustARN  string // ARN matched against trust policies (role ARN for sessions)
	name      string
	user      *User
	sess      *session
	akid      string
}

func (p *principal) denied(perm string) bool {
	var deny []string
	switch {
	case p.user != nil:
		deny = p.user.Deny
	case p.sess != nil:
		deny = p.sess.role.Deny
	}
	service, _, _ := strings.Cut(perm, ":")
	for _, d := range deny {
		if d == "*" || strings.EqualFold(d, perm) || strings.EqualFold(d, service+":*") {
			return true
		}
	}
	return false
}

// lookupAK resolves an AccessKeyId to its secret and principal.
func (s *Server) lookupAK(ak string) (string, *principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[ak]; ok {
		p := &principal{accountID: u.AccountID, arn: u.ARN(), trustARN: u.ARN(), name: u.Name, user: u, akid: ak}
		if u.Root {
			p.kind, p.name = "root", "root"
		} else {
			p.kind = "user"
		}
		return u.AccessKeySecret, p, true
	}
	if sess, ok := s.sessions[ak]; ok {
		roleName := strings.TrimPrefix(sess.RoleARN[strings.Index(sess.RoleARN, ":role/"):], ":role/")
		p := &principal{
			kind:      "session",
			accountID: sess.accountID,
			arn:       "acs:ram::" + sess.accountID + ":assumed-role/" + roleName + "/" + sess.SessionName,
			trustARN:  sess.RoleARN,
			name:      roleName + "/" + sess.SessionName,
			sess:      sess,
			akid:      ak,
		}
		return sess.AccessKeySecret, p, true
	}
	return "", nil, false
}

// useNonce records nonce; false if it was used within the clock tolerance window.
func (s *Server) useNonce(nonce string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.nonces) > 4096 {
		for k, t := range s.nonces {
			if now.Sub(t) > 2*clockTolerance {
				delete(s.nonces, k)
			}
		}
	}
	if t, ok := s.nonces[nonce]; ok && now.Sub(t) <= 2*clockTolerance {
		return false
	}
	s.nonces[nonce] = now
	return true
}

func (s *Server) checkTimestamp(rc *reqCtx, value string) *response {
	if value == "" {
		return s.apiError(rc, http.StatusBadRequest, "MissingTimestamp", "Timestamp is mandatory for this action.")
	}
	t, err := time.Parse(timeLayout, value)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, value); err != nil {
			return s.apiError(rc, http.StatusBadRequest, "InvalidTimeStamp.Format",
				"Specified time stamp or date value is not well formatted.")
		}
	}
	if d := time.Since(t); d > clockTolerance || d < -clockTolerance {
		return s.apiError(rc, http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired.")
	}
	return nil
}

// checkSecurityToken enforces the STS token rules for an authenticated key.
func (s *Server) checkSecurityToken(rc *reqCtx, p *principal, token string) *response {
	if p.sess == nil {
		if token != "" {
			return s.apiError(rc, http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey",
				"Specified SecurityToken mismatch with the AccessKey.")
		}
		return nil
	}
	switch {
	case token == "":
		return s.apiError(rc, http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
	case !hmac.Equal([]byte(token), []byte(p.sess.SecurityToken)):
		return s.apiError(rc, http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey",
			"Specified SecurityToken mismatch with the AccessKey.")
	case !time.Now().Before(p.sess.Expiration):
		return s.apiError(rc, http.StatusBadRequest, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	}
	return nil
}

func (s *Server) authACS3(rc *reqCtx) (*principal, *response) {
	r := rc.r
	incomplete := func() (*principal, *response) {
		return nil, s.apiError(rc, http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards.")
	}
	auth, err := parseACS3Authorization(r.Header.Get("Authorization"))
	if err != nil {
		return incomplete()
	}
	rc.call.AccessKeyID = auth.accessKeyID
	if res := s.checkTimestamp(rc, r.Header.Get("x-acs-date")); res != nil {
		return nil, res
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	if nonce == "" {
		return nil, s.apiError(rc, http.StatusBadRequest, "MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
	}
	secret, p, ok := s.lookupAK(auth.accessKeyID)
	if !ok {
		return nil, s.apiError(rc, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	// The signed header list must be sorted, lower case, present, and cover host and every
	// x-acs-* header (the SDK signs all of them).
	if !sort.StringsAreSorted(auth.signedHeaders) {
		return incomplete()
	}
	signed := map[string]bool{}
	for _, h := range auth.signedHeaders {
		if h != strings.ToLower(h) {
			return incomplete()
		}
		if _, present := headerValue(r, h); !present {
			return incomplete()
		}
		signed[h] = true
	}
	if !signed["host"] {
		return incomplete()
	}
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") && !signed[lk] {
			return incomplete()
		}
	}
	mismatch := func(detail string) (*principal, *response) {
		return nil, s.apiError(rc, http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. "+detail)
	}
	payloadHash := sha256Hex(rc.body)
	if !strings.EqualFold(r.Header.Get("x-acs-content-sha256"), payloadHash) {
		return mismatch("The x-acs-content-sha256 header does not match the request body.")
	}
	q, ok := canonicalQuery(rc.query)
	if !ok {
		return mismatch("A query parameter is repeated.")
	}
	stringToSign := acs3StringToSign(r, q, auth.signedHeaders, payloadHash)
	want := acs3Sign(secret, stringToSign)
	if !hmac.Equal([]byte(strings.ToLower(auth.signature)), []byte(want)) {
		return mismatch("server string to sign is:" + stringToSign)
	}
	if id := r.Header.Get("x-acs-accesskey-id"); id != "" && id != auth.accessKeyID {
		return incomplete()
	}
	if res := s.checkSecurityToken(rc, p, r.Header.Get("x-acs-security-token")); res != nil {
		return nil, res
	}
	if !s.useNonce(nonce) {
		return nil, s.apiError(rc, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return p, nil
}

// authLegacy verifies the RPC HMAC-SHA1 signature ("Signature" in the query) that
// credentials-go's RAM-role provider and DoRPCRequest send.
func (s *Server) authLegacy(rc *reqCtx) (*principal, *response) {
	params := rc.params
	if m := params["SignatureMethod"]; m != "HMAC-SHA1" {
		return nil, s.apiError(rc, http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not supported.")
	}
	if v := params["SignatureVersion"]; v != "1.0" {
		return nil, s.apiError(rc, http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version is not supported.")
	}
	ak := params["AccessKeyId"]
	rc.call.AccessKeyID = ak
	if ak == "" {
		return nil, s.apiError(rc, http.StatusBadRequest, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.")
	}
	if res := s.checkTimestamp(rc, params["Timestamp"]); res != nil {
		return nil, res
	}
	nonce := params["SignatureNonce"]
	if nonce == "" {
		return nil, s.apiError(rc, http.StatusBadRequest, "MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
	}
	secret, p, ok := s.lookupAK(ak)
	if !ok {
		return nil, s.apiError(rc, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	for _, vs := range rc.query {
		if len(vs) != 1 {
			return nil, s.apiError(rc, http.StatusBadRequest, "SignatureDoesNotMatch",
				"Specified signature does not match our calculation. A query parameter is repeated.")
		}
	}
	signed := make(map[string]string, len(params))
	for k, v := range params {
		if k != "Signature" {
			signed[k] = v
		}
	}
	stringToSign := legacyStringToSign(rc.r.Method, signed)
	if !hmac.Equal([]byte(params["Signature"]), []byte(legacySign(secret, stringToSign))) {
		return nil, s.apiError(rc, http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+stringToSign)
	}
	if res := s.checkSecurityToken(rc, p, params["SecurityToken"]); res != nil {
		return nil, res
	}
	if !s.useNonce(nonce) {
		return nil, s.apiError(rc, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return p, nil
}

// checkAnonymous validates the common parameters of an unsigned RPC call (AssumeRoleWithOIDC).
func (s *Server) checkAnonymous(rc *reqCtx) *response {
	if res := s.checkTimestamp(rc, rc.params["Timestamp"]); res != nil {
		return res
	}
	if n := rc.params["SignatureNonce"]; n != "" && !s.useNonce(n) {
		return s.apiError(rc, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}
