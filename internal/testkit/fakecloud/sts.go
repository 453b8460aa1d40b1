package fakecloud

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const msgNotAuthorized = "You are not authorized to do this action. You should be authorized by RAM."

// roleID is a stable numeric id for a role ARN (RAM role ids are 17-19 digits).
func roleID(arn string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(arn)))
	return strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])%9e17+1e17, 10)
}

func (s *Server) findRole(arn string) *Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roles[strings.ToLower(arn)]
}

func trusts(role *Role, p *principal) bool {
	for _, acct := range role.TrustedAccounts {
		if acct == p.accountID {
			return true
		}
	}
	for _, arn := range role.TrustedPrincipals {
		if strings.EqualFold(arn, p.trustARN) {
			return true
		}
	}
	return false
}

// sessionParams validates RoleArn, RoleSessionName, DurationSeconds and Policy, shared by
// AssumeRole and AssumeRoleWithOIDC.
func (s *Server) sessionParams(rc *reqCtx, sessionRequired bool) (roleARN, name string, res *response) {
	roleARN, name = rc.params["RoleArn"], rc.params["RoleSessionName"]
	if roleARN == "" {
		return "", "", s.apiError(rc, http.StatusBadRequest, "MissingRoleArn", "RoleArn is mandatory for this action.")
	}
	if !reRoleARN.MatchString(roleARN) {
		return "", "", s.apiError(rc, http.StatusBadRequest, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
	}
	if name == "" && sessionRequired {
		return "", "", s.apiError(rc, http.StatusBadRequest, "MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
	}
	if name == "" {
		name = "oidc-" + randAlnum(8)
	}
	if !reSessionName.MatchString(name) {
		return "", "", s.apiError(rc, http.StatusBadRequest, "InvalidParameter.RoleSessionName",
			"The parameter RoleSessionName is wrongly formed.")
	}
	if pol, ok := rc.params["Policy"]; ok && pol != "" {
		if !json.Valid([]byte(pol)) {
			return "", "", s.apiError(rc, http.StatusBadRequest, "InvalidParameter.PolicyGrammar",
				"The parameter Policy has not passed grammar check.")
		}
		if len(pol) > 2048 {
			return "", "", s.apiError(rc, http.StatusBadRequest, "InvalidParameter.PolicySize",
				"The size of Policy must be smaller than 2048 bytes.")
		}
	}
	return roleARN, name, nil
}

func (s *Server) durationParam(rc *reqCtx, max time.Duration) (time.Duration, *response) {
	d := time.Hour
	if v := rc.params["DurationSeconds"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		d = time.Duration(n) * time.Second
	}
	if d < 15*time.Minute || d > max {
		return 0, s.apiError(rc, http.StatusBadRequest, "InvalidParameter.DurationSeconds",
			"The Min/Max value of DurationSeconds is 15min/"+humanMax(max)+".")
	}
	return d, nil
}

func humanMax(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "hr"
	}
	return strconv.Itoa(int(d/time.Minute)) + "min"
}

func (s *Server) stsCredentialsBody(rc *reqCtx, sess *session) map[string]any {
	roleName := sess.RoleARN[strings.Index(sess.RoleARN, ":role/")+len(":role/"):]
	return map[string]any{
		"RequestId": rc.reqID,
		"AssumedRoleUser": map[string]any{
			"Arn":           "acs:ram::" + sess.accountID + ":assumed-role/" + roleName + "/" + sess.SessionName,
			"AssumedRoleId": roleID(sess.RoleARN) + ":" + sess.SessionName,
		},
		"Credentials": map[string]any{
			"AccessKeyId":     sess.AccessKeyID,
			"AccessKeySecret": sess.AccessKeySecret,
			"SecurityToken":   sess.SecurityToken,
			"Expiration":      sess.Expiration.UTC().Format(timeLayout),
		},
	}
}

func (s *Server) stsAssumeRole(rc *reqCtx, p *principal) *response {
	if p.kind == "root" {
		return s.apiError(rc, http.StatusForbidden, "NoPermission", "Roles may not be assumed by root accounts.")
	}
	if p.denied("sts:AssumeRole") {
		return s.apiError(rc, http.StatusForbidden, "NoPermission", msgNotAuthorized)
	}
	roleARN, name, res := s.sessionParams(rc, true)
	if res != nil {
		return res
	}
	if ext, ok := rc.params["ExternalId"]; ok && (len(ext) < 2 || len(ext) > 1224) {
		return s.apiError(rc, http.StatusBadRequest, "InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.")
	}
	role := s.findRole(roleARN)
	if role == nil {
		return s.apiError(rc, http.StatusNotFound, "EntityNotExist.Role", "The role not exists: "+roleARN+".")
	}
	// Trust policy: principal (or its account) listed, and the sts:ExternalId condition holds.
	if !trusts(role, p) || (role.ExternalID != "" && rc.params["ExternalId"] != role.ExternalID) {
		return s.apiError(rc, http.StatusForbidden, "NoPermission", msgNotAuthorized)
	}
	max := role.maxDuration()
	if p.kind == "session" && max > time.Hour {
		max = time.Hour // role chaining is limited to one hour
	}
	d, res := s.durationParam(rc, max)
	if res != nil {
		return res
	}
	s.mu.Lock()
	sess := s.newSessionLocked(role, name, time.Now().Add(d), rc.params["Policy"], p.akid)
	s.mu.Unlock()
	body := s.stsCredentialsBody(rc, sess)
	if si := rc.params["SourceIdentity"]; si != "" {
		body["SourceIdentity"] = si
	}
	return jsonResponse(http.StatusOK, body)
}

func (s *Server) stsAssumeRoleWithOIDC(rc *reqCtx, _ *principal) *response {
	provider, token := rc.params["OIDCProviderArn"], rc.params["OIDCToken"]
	if provider == "" {
		return s.apiError(rc, http.StatusBadRequest, "MissingOIDCProviderArn", "OIDCProviderArn is mandatory for this action.")
	}
	if token == "" {
		return s.apiError(rc, http.StatusBadRequest, "MissingOIDCToken", "OIDCToken is mandatory for this action.")
	}
	roleARN, name, res := s.sessionParams(rc, false)
	if res != nil {
		return res
	}
	role := s.findRole(roleARN)
	if role == nil {
		return s.apiError(rc, http.StatusNotFound, "EntityNotExist.Role", "The role not exists: "+roleARN+".")
	}
	var reg *OIDCToken
	providerKnown, tokenKnown := false, false
	s.mu.Lock()
	for i := range s.oidc {
		t := s.oidc[i]
		if !strings.EqualFold(t.ProviderARN, provider) {
			continue
		}
		providerKnown = true
		if t.Token != token {
			continue
		}
		tokenKnown = true
		if strings.EqualFold(t.RoleARN, roleARN) {
			reg = &t
			break
		}
	}
	s.mu.Unlock()
	switch {
	case !providerKnown:
		return s.apiError(rc, http.StatusForbidden, "AuthenticationFail.NoPermission", "No such OIDC Provider registered.")
	case !tokenKnown:
		return s.apiError(rc, http.StatusBadRequest, "AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid.")
	case reg == nil:
		// The role's trust policy does not name this provider / token subject.
		return s.apiError(rc, http.StatusForbidden, "AuthenticationFail.NoPermission", "There is no permission")
	case !time.Now().Before(reg.Expires):
		return s.apiError(rc, http.StatusBadRequest, "AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired.")
	}
	d, res := s.durationParam(rc, role.maxDuration())
	if res != nil {
		return res
	}
	s.mu.Lock()
	sess := s.newSessionLocked(role, name, time.Now().Add(d), rc.params["Policy"], "")
	s.mu.Unlock()
	body := s.stsCredentialsBody(rc, sess)
	issuer := reg.Issuer
	if issuer == "" {
		issuer = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/fake"
	}
	subject := reg.Subject
	if subject == "" {
		subject = "system:serviceaccount:default:default"
	}
	body["OIDCTokenInfo"] = map[string]any{
		"Subject":          subject,
		"Issuer":           issuer,
		"ClientIds":        "sts.aliyuncs.com",
		"ExpirationTime":   reg.Expires.UTC().Format(timeLayout),
		"IssuanceTime":     reg.Expires.Add(-time.Hour).UTC().Format(timeLayout),
		"VerificationInfo": "Success",
	}
	return jsonResponse(http.StatusOK, body)
}

func (s *Server) stsGetCallerIdentity(rc *reqCtx, p *principal) *response {
	body := map[string]any{"RequestId": rc.reqID, "AccountId": p.accountID, "Arn": p.arn}
	switch p.kind {
	case "root":
		body["IdentityType"], body["PrincipalId"] = "Account", p.accountID
	case "user":
		uid := roleID(p.arn)
		body["IdentityType"], body["PrincipalId"], body["UserId"] = "RAMUser", uid, uid
	case "session":
		rid := roleID(p.sess.RoleARN)
		body["IdentityType"], body["PrincipalId"], body["RoleId"] = "AssumedRoleUser", rid+":"+p.sess.SessionName, rid
	}
	return jsonResponse(http.StatusOK, body)
}
