package fakecloud_test

import (
	"strings"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func assumeRole(t *testing.T, fc *fakecloud.Server, ak, sk, token string, req *sts.AssumeRoleRequest) (*sts.AssumeRoleResponse, error) {
	t.Helper()
	return stsClient(t, config(fc, ak, sk, token)).AssumeRole(req)
}

// A role chain: user → acr-puller → acr-chained, then a registry token with hop 2's credentials.
// The call log proves which key signed each hop.
func TestRoleChain(t *testing.T) {
	fc := newWorld(t)
	hop1, err := assumeRole(t, fc, userAK, userSK, "", &sts.AssumeRoleRequest{
		RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("hop1"), DurationSeconds: tea.Int64(7200),
	})
	if err != nil {
		t.Fatal(err)
	}
	c1 := hop1.Body.Credentials
	if !strings.HasPrefix(tea.StringValue(c1.AccessKeyId), "STS.") || tea.StringValue(c1.SecurityToken) == "" ||
		tea.StringValue(hop1.Body.AssumedRoleUser.Arn) != "acs:ram::"+acct+":assumed-role/acr-puller/hop1" ||
		!strings.HasSuffix(tea.StringValue(hop1.Body.AssumedRoleUser.AssumedRoleId), ":hop1") {
		t.Fatalf("hop1 = %s", hop1.Body)
	}
	exp, err := time.Parse("2006-01-02T15:04:05Z", tea.StringValue(c1.Expiration))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 119*time.Minute || d > 121*time.Minute {
		t.Errorf("hop1 expires in %v, want 2h", d)
	}

	// Role chaining is limited to one hour.
	_, err = assumeRole(t, fc, *c1.AccessKeyId, *c1.AccessKeySecret, *c1.SecurityToken, &sts.AssumeRoleRequest{
		RoleArn: tea.String(chainedARN), RoleSessionName: tea.String("hop2"), DurationSeconds: tea.Int64(7200),
	})
	sdkError(t, err, "InvalidParameter.DurationSeconds", 400)

	hop2, err := assumeRole(t, fc, *c1.AccessKeyId, *c1.AccessKeySecret, *c1.SecurityToken, &sts.AssumeRoleRequest{
		RoleArn: tea.String(chainedARN), RoleSessionName: tea.String("hop2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c2 := hop2.Body.Credentials
	tok, err := enterpriseToken(crClient(t, config(fc, *c2.AccessKeyId, *c2.AccessKeySecret, *c2.SecurityToken)), instID)
	if err != nil {
		t.Fatal(err)
	}

	var signers []string
	for _, c := range fc.Calls() {
		if c.Status == 200 {
			signers = append(signers, c.Action+"<-"+c.AccessKeyID)
		}
	}
	want := []string{"AssumeRole<-" + userAK, "AssumeRole<-" + *c1.AccessKeyId, "GetAuthorizationToken<-" + *c2.AccessKeyId}
	if strings.Join(signers, " ") != strings.Join(want, " ") {
		t.Fatalf("signers %v, want %v", signers, want)
	}
	tc := lastCall(t, fc, "GetAuthorizationToken")
	if tc.Principal != "acs:ram::"+acct+":assumed-role/acr-chained/hop2" {
		t.Errorf("principal %s", tc.Principal)
	}
	issued := fc.IssuedTokens()
	if len(issued) != 1 || issued[0].AccessKeyID != *c2.AccessKeyId || issued[0].Token != *tok.Body.AuthorizationToken {
		t.Fatalf("issued %+v", issued)
	}

	// acr-chained trusts only sessions of acr-puller, not the user directly.
	_, err = assumeRole(t, fc, userAK, userSK, "", &sts.AssumeRoleRequest{RoleArn: tea.String(chainedARN), RoleSessionName: tea.String("x1")})
	sdkError(t, err, "NoPermission", 403)
}

func TestSTSCredentialChecks(t *testing.T) {
	fc := newWorld(t)
	short, err := fc.IssueSTS(pullerARN, "short", time.Now().Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// A token asked for with STS credentials never outlives them.
	res, err := enterpriseToken(crClient(t, config(fc, short.AccessKeyID, short.AccessKeySecret, short.SecurityToken)), instID)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(tea.Int64Value(res.Body.ExpireTime)); !got.Equal(short.Expiration) {
		t.Errorf("ExpireTime %v, want the STS expiry %v", got, short.Expiration)
	}
	body, err := personalToken(crClient(t, config(fc, short.AccessKeyID, short.AccessKeySecret, short.SecurityToken)))
	if err != nil {
		t.Fatal(err)
	}
	if got := expireMillis(t, body["data"].(map[string]any)["expireDate"]); got != short.Expiration.UnixMilli() {
		t.Errorf("expireDate %d, want %d", got, short.Expiration.UnixMilli())
	}

	expired, err := fc.IssueSTS(pullerARN, "old", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := fc.IssueSTS(pullerARN, "other", time.Now().Add(time.Hour))
	tests := []struct {
		name, ak, sk, token, code string
	}{
		{"expired", expired.AccessKeyID, expired.AccessKeySecret, expired.SecurityToken, "InvalidSecurityToken.Expired"},
		{"token of another key", short.AccessKeyID, short.AccessKeySecret, other.SecurityToken, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"no token", short.AccessKeyID, short.AccessKeySecret, "", "MissingSecurityToken"},
		{"token with a long-term key", userAK, userSK, short.SecurityToken, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"wrong STS secret", short.AccessKeyID, "nope", short.SecurityToken, "SignatureDoesNotMatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enterpriseToken(crClient(t, config(fc, tc.ak, tc.sk, tc.token)), instID)
			sdkError(t, err, tc.code, 400)
			_, err = assumeRole(t, fc, tc.ak, tc.sk, tc.token, &sts.AssumeRoleRequest{RoleArn: tea.String(chainedARN), RoleSessionName: tea.String("s1")})
			sdkError(t, err, tc.code, 400)
		})
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	fc := newWorld(t)
	tests := []struct {
		name   string
		ak, sk string
		req    *sts.AssumeRoleRequest
		code   string
		status int
	}{
		{"unknown role", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String("acs:ram::" + acct + ":role/nope"), RoleSessionName: tea.String("s1")}, "EntityNotExist.Role", 404},
		{"malformed arn", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String("role/nope"), RoleSessionName: tea.String("s1")}, "InvalidParameter.RoleArn", 400},
		{"no session name", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN)}, "MissingRoleSessionName", 400},
		{"bad session name", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("a b")}, "InvalidParameter.RoleSessionName", 400},
		{"duration too short", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1"), DurationSeconds: tea.Int64(899)}, "InvalidParameter.DurationSeconds", 400},
		{"duration above role max", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1"), DurationSeconds: tea.Int64(7201)}, "InvalidParameter.DurationSeconds", 400},
		{"bad policy", userAK, userSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1"), Policy: tea.String("{")}, "InvalidParameter.PolicyGrammar", 400},
		{"not trusted", otherAK, otherSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}, "NoPermission", 403},
		{"denied sts:AssumeRole", deniedAK, deniedSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}, "NoPermission", 403},
		{"root account", rootAK, rootSK, &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}, "NoPermission", 403},
		{"external id missing", otherAK, otherSK, &sts.AssumeRoleRequest{RoleArn: tea.String(crossARN), RoleSessionName: tea.String("s1")}, "NoPermission", 403},
		{"external id wrong", otherAK, otherSK, &sts.AssumeRoleRequest{RoleArn: tea.String(crossARN), RoleSessionName: tea.String("s1"), ExternalId: tea.String("wxyz-0000")}, "NoPermission", 403},
		{"unknown key", "LTAI5tNobody", "x", &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}, "InvalidAccessKeyId.NotFound", 404},
		{"wrong secret", userAK, "x", &sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")}, "SignatureDoesNotMatch", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assumeRole(t, fc, tc.ak, tc.sk, "", tc.req)
			sdkError(t, err, tc.code, tc.status)
		})
	}
	// Cross-account with the right ExternalId works; its credentials act in the role's account.
	res, err := assumeRole(t, fc, otherAK, otherSK, "", &sts.AssumeRoleRequest{
		RoleArn: tea.String(crossARN), RoleSessionName: tea.String("x-acct"), ExternalId: tea.String("abcd-1234"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Body.Credentials
	if _, err := enterpriseToken(crClient(t, config(fc, *c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)), instID); err != nil {
		t.Fatal(err)
	}
	id, err := stsClient(t, config(fc, *c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)).GetCallerIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(id.Body.AccountId) != acct || tea.StringValue(id.Body.IdentityType) != "AssumedRoleUser" {
		t.Fatalf("caller identity %s", id.Body)
	}
}

func TestAssumeRoleWithOIDC(t *testing.T) {
	fc := newWorld(t)
	if err := fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: providerARN, RoleARN: rrsaARN, Token: "expired-token", Expires: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	anon := stsClient(t, config(fc, "", "", ""))
	res, err := anon.AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
		OIDCProviderArn: tea.String(providerARN), RoleArn: tea.String(rrsaARN), OIDCToken: tea.String(oidcToken),
		RoleSessionName: tea.String("pod"), DurationSeconds: tea.Int64(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Body.Credentials
	if tea.StringValue(res.Body.OIDCTokenInfo.Subject) == "" || tea.StringValue(res.Body.AssumedRoleUser.Arn) != "acs:ram::"+acct+":assumed-role/rrsa-role/pod" {
		t.Fatalf("body %s", res.Body)
	}
	call := lastCall(t, fc, "AssumeRoleWithOIDC")
	if call.Style != "Anonymous" || call.AccessKeyID != "" || call.Params["OIDCToken"] != oidcToken || call.Params["Timestamp"] == "" ||
		call.Params["SignatureNonce"] == "" || call.Params["Format"] != "json" {
		t.Fatalf("call %+v", call)
	}
	if _, err := enterpriseToken(crClient(t, config(fc, *c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)), instID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, provider, role, token, code string
		status                            int
	}{
		{"wrong token", providerARN, rrsaARN, "nope", "AuthenticationFail.OIDCToken.Invalid", 400},
		{"expired token", providerARN, rrsaARN, "expired-token", "AuthenticationFail.OIDCToken.Expired", 400},
		{"unknown provider", "acs:ram::" + acct + ":oidc-provider/other", rrsaARN, oidcToken, "AuthenticationFail.NoPermission", 403},
		{"role does not trust the provider", providerARN, pullerARN, oidcToken, "AuthenticationFail.NoPermission", 403},
		{"unknown role", providerARN, "acs:ram::" + acct + ":role/nope", oidcToken, "EntityNotExist.Role", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := anon.AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
				OIDCProviderArn: tea.String(tc.provider), RoleArn: tea.String(tc.role), OIDCToken: tea.String(tc.token),
				RoleSessionName: tea.String("pod"),
			})
			sdkError(t, err, tc.code, tc.status)
		})
	}
	// Other actions need a signature.
	_, err = anon.AssumeRole(&sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("s1")})
	if err == nil {
		t.Fatal("unsigned AssumeRole succeeded")
	}
}
