package fakecloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const tempUsername = "cr_temp_user"

// noPermission is the gateway's RAM denial, with the AccessDeniedDetail that darabonba copies
// into SDKError.AccessDeniedDetail.
func (s *Server) noPermission(rc *reqCtx, p *principal, perm string) *response {
	ptype := "SubUser"
	switch p.kind {
	case "root":
		ptype = "Account"
	case "session":
		ptype = "AssumedRoleUser"
	}
	return s.apiErrorWith(rc, http.StatusForbidden, "NoPermission",
		"You are not authorized to do this operation. Action: "+perm+".",
		map[string]any{"AccessDeniedDetail": map[string]any{
			"AuthAction":               perm,
			"AuthPrincipalType":        ptype,
			"AuthPrincipalOwnerId":     p.accountID,
			"AuthPrincipalDisplayName": p.name,
			"NoPermissionType":         "ImplicitDeny",
			"PolicyType":               "AccountLevelIdentityBasedPolicy",
			"EncodedDiagnosticMessage": base64.StdEncoding.EncodeToString([]byte(`{"fake":true}`)),
		}})
}

// instanceNotExist answers an unknown (or other account's, or other region's) instance id.
//
// Choice of shape: HTTP 404 with {"Code":"INSTANCE_NOT_EXIST","Message","RequestId",...,
// "IsSuccess":false}. The cr 2018-12-01 API reports its own failures with upper-snake codes
// (INSTANCE_NOT_EXIST, NAMESPACE_NOT_EXIST, REPO_NOT_EXIST); terraform-provider-alicloud's
// cr_ee service expects INSTANCE_NOT_EXIST as an SDK error from a failed HTTP call and keeps the
// IsSuccess=false/HTTP 200 form as a fallback, and the 2016-06-07 sibling answers a missing
// entity (USER_NOT_EXIST) with 404. The HTTP status itself is not documented; 404 is our pick.
// The HTTP-200 IsSuccess=false form is available as FaultNotSuccess.
func (s *Server) instanceNotExist(rc *reqCtx) *response {
	return s.apiErrorWith(rc, http.StatusNotFound, "INSTANCE_NOT_EXIST", "instance not exist.",
		map[string]any{"IsSuccess": false})
}

func (s *Server) findInstance(rc *reqCtx, p *principal, id string) *Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.instances {
		if in.ID == id && in.AccountID == p.accountID && (rc.region == "" || rc.region == in.Region) {
			cp := *in
			return &cp
		}
	}
	return nil
}

func (s *Server) issueToken(rc *reqCtx, p *principal, edition, instanceID string) IssuedToken {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp := now.Add(s.tokenLifetime)
	if p.sess != nil && p.sess.Expiration.Before(exp) {
		exp = p.sess.Expiration
	}
	exp = exp.Truncate(time.Millisecond)
	token, ok := s.fixed[instanceID]
	if !ok {
		token, ok = s.fixed["*"]
	}
	if !ok {
		payload := marshal(map[string]any{
			"instanceId": instanceID,
			"time":       strconv.FormatInt(exp.UnixMilli(), 10),
			"type":       edition,
			"userId":     p.accountID,
			"principal":  p.arn,
			"nonce":      randAlnum(12),
		})
		m := hmac.New(sha256.New, s.tokenKey)
		m.Write(payload)
		token = base64.StdEncoding.EncodeToString(payload) + ":" + hex.EncodeToString(m.Sum(nil))
	}
	t := IssuedToken{
		Time: now, Edition: edition, InstanceID: instanceID, Region: rc.region, Username: tempUsername,
		Token: token, ExpiresAt: exp, AccessKeyID: p.akid, Principal: p.arn,
	}
	s.tokens = append(s.tokens, t)
	return t
}

// crPersonalToken is cr 2016-06-07 GET /tokens (Personal Edition).
func (s *Server) crPersonalToken(rc *reqCtx, p *principal) *response {
	if p.denied("cr:GetAuthorizationToken") {
		return s.noPermission(rc, p, "cr:GetAuthorizationToken")
	}
	hasUser := true
	switch p.kind {
	case "user":
		hasUser = p.user.RegistryPassword
	case "session":
		hasUser = !p.sess.role.NoRegistryUser
	}
	if !hasUser {
		// The product's own error: lower-case keys, as seen in the wild:
		// {"code":"USER_NOT_EXIST","message":"user is not exist.","requestId":"…"} with 404.
		res := jsonResponse(http.StatusNotFound, map[string]any{
			"code": "USER_NOT_EXIST", "message": "user is not exist.", "requestId": rc.reqID,
		})
		res.code = "USER_NOT_EXIST"
		return res
	}
	t := s.issueToken(rc, p, "personal", "")
	return jsonResponse(http.StatusOK, map[string]any{
		"data": map[string]any{
			"authorizationToken": t.Token,
			"tempUserName":       t.Username,
			"expireDate":         s.expiry(t.ExpiresAt),
		},
		"requestId": rc.reqID,
	})
}

// instanceAction is what every per-instance cr action checks first, in the real service's order:
// the RAM permission, the InstanceId parameter, then that the instance exists for this caller.
func (s *Server) instanceAction(rc *reqCtx, p *principal, ramAction string) (*Instance, *response) {
	if p.denied(ramAction) {
		return nil, s.noPermission(rc, p, ramAction)
	}
	id := rc.params["InstanceId"]
	if id == "" {
		return nil, s.apiError(rc, http.StatusBadRequest, "MissingInstanceId", "InstanceId is mandatory for this action.")
	}
	in := s.findInstance(rc, p, id)
	if in == nil {
		return nil, s.instanceNotExist(rc)
	}
	return in, nil
}

func (s *Server) crGetAuthorizationToken(rc *reqCtx, p *principal) *response {
	in, fail := s.instanceAction(rc, p, "cr:GetAuthorizationToken")
	if fail != nil {
		return fail
	}
	t := s.issueToken(rc, p, "enterprise", in.ID)
	return jsonResponse(http.StatusOK, map[string]any{
		"AuthorizationToken": t.Token,
		"TempUsername":       t.Username,
		"ExpireTime":         s.expiry(t.ExpiresAt),
		"IsSuccess":          true,
		"Code":               "success",
		"RequestId":          rc.reqID,
	})
}

func resourceGroupID(account string) string { return "rg-acfmfake" + account }

func intParam(params map[string]string, name string, def int) (int, bool) {
	v, ok := params[name]
	if !ok || v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

func (s *Server) crListInstance(rc *reqCtx, p *principal) *response {
	if p.denied("cr:ListInstance") {
		return s.noPermission(rc, p, "cr:ListInstance")
	}
	pageNo, ok1 := intParam(rc.params, "PageNo", 1)
	pageSize, ok2 := intParam(rc.params, "PageSize", 30)
	if !ok1 || !ok2 {
		return s.apiError(rc, http.StatusBadRequest, "InvalidParameter", "The specified parameter PageNo or PageSize is not valid.")
	}
	name, status := rc.params["InstanceName"], rc.params["InstanceStatus"]
	var matched []Instance
	s.mu.Lock()
	for _, in := range s.instances {
		if in.AccountID != p.accountID || (rc.region != "" && rc.region != in.Region) {
			continue
		}
		// The real filter is fuzzy: a substring match.
		if name != "" && !strings.Contains(in.Name, name) {
			continue
		}
		if status != "" && status != in.Status {
			continue
		}
		matched = append(matched, *in)
	}
	s.mu.Unlock()
	items := []map[string]any{}
	start := (pageNo - 1) * pageSize
	for i := start; i < len(matched) && i < start+pageSize; i++ {
		in := matched[i]
		items = append(items, map[string]any{
			"InstanceId":            in.ID,
			"InstanceName":          in.Name,
			"RegionId":              in.Region,
			"InstanceStatus":        in.Status,
			"InstanceSpecification": in.Specification,
			"ResourceGroupId":       resourceGroupID(in.AccountID),
			"CreateTime":            s.listInstanceTime(),
			"ModifiedTime":          s.listInstanceTime(),
		})
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"Instances":  items,
		"TotalCount": s.totalCount(len(matched)),
		"PageNo":     pageNo,
		"PageSize":   pageSize,
		"IsSuccess":  true,
		"Code":       "success",
		"RequestId":  rc.reqID,
	})
}

func (s *Server) crGetInstance(rc *reqCtx, p *principal) *response {
	in, fail := s.instanceAction(rc, p, "cr:GetInstance")
	if fail != nil {
		return fail
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"InstanceId":            in.ID,
		"InstanceName":          in.Name,
		"InstanceStatus":        in.Status,
		"InstanceSpecification": in.Specification,
		"ResourceGroupId":       resourceGroupID(in.AccountID),
		"CreateTime":            s.getInstanceTime(),
		"ModifiedTime":          s.getInstanceTime(),
		"IsSuccess":             true,
		"Code":                  "success",
		"RequestId":             rc.reqID,
	})
}

func (s *Server) crListInstanceEndpoint(rc *reqCtx, p *principal) *response {
	in, fail := s.instanceAction(rc, p, "cr:ListInstanceEndpoint")
	if fail != nil {
		return fail
	}
	endpoints := []map[string]any{}
	switch rc.params["ModuleName"] {
	case "", "Registry":
		for _, ep := range in.Endpoints {
			status := ep.Status
			if status == "" {
				status = "RUNNING"
			}
			domains := []map[string]any{}
			for _, d := range ep.Domains {
				domains = append(domains, map[string]any{"Domain": d.Domain, "Type": d.Type})
			}
			endpoints = append(endpoints, map[string]any{
				"EndpointType": ep.Type,
				"Enable":       ep.Enable,
				"Status":       status,
				"Domains":      domains,
				"AclEnable":    false,
				"AclEntries":   []any{},
				"LinkedVpcs":   []any{},
			})
		}
	case "Chart":
		// Helm chart endpoints are not modelled: none are enabled.
	default:
		return s.apiError(rc, http.StatusBadRequest, "InvalidParameter", "The specified parameter ModuleName is not valid.")
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"Endpoints": endpoints,
		"IsSuccess": true,
		"Code":      "success",
		"RequestId": rc.reqID,
	})
}
