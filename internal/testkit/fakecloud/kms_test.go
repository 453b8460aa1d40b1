package fakecloud_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

var (
	ghcrLogin   = `{"username":"octocat","password":"ghp_SECRETVALUE0001"}`
	rotated     = `{"username":"octocat","password":"ghp_SECRETVALUE0002"}`
	readerRole  = "acs:ram::" + acct + ":role/secrets-reader"
	sharedARN   = "acs:kms:cn-shanghai:" + acct + ":secret/dockerhub-pull"
	otherSecret = "acs:kms:cn-hangzhou:" + otherAcct + ":secret/theirs"
)

// kmsWorld is newWorld plus secrets: ghcr-pull (text, cn-hangzhou), dockerhub-pull (cn-shanghai,
// readable only by the secrets-reader role, customer key), blob (binary), and another account's.
func kmsWorld(t *testing.T) *fakecloud.Server {
	t.Helper()
	fc := newWorld(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "secrets-reader", TrustedAccounts: []string{acct}}))
	must(fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-hangzhou", Name: "ghcr-pull",
		Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: ghcrLogin}}}))
	must(fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-shanghai", Name: "dockerhub-pull",
		Readers: []string{readerRole}, EncryptionKeyID: "key-0001",
		Versions: []fakecloud.SecretVersion{{VersionID: "1", Data: ghcrLogin}}}))
	must(fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-hangzhou", Name: "blob", DataType: "binary",
		Versions: []fakecloud.SecretVersion{{VersionID: "b1", Data: "AAEC"}}}))
	must(fc.AddSecret(fakecloud.Secret{AccountID: otherAcct, Region: "cn-hangzhou", Name: "theirs",
		Versions: []fakecloud.SecretVersion{{VersionID: "t1", Data: ghcrLogin}}}))
	return fc
}

func kmsClient(t *testing.T, c *openapi.Config) *kms.Client {
	t.Helper()
	cl, err := kms.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func getSecret(cl *kms.Client, name, stage string) (*kms.GetSecretValueResponse, error) {
	req := &kms.GetSecretValueRequest{SecretName: tea.String(name)}
	if stage != "" {
		req.VersionStage = tea.String(stage)
	}
	return cl.GetSecretValue(req)
}

func TestKMSGetSecretValue(t *testing.T) {
	fc := kmsWorld(t)
	resp, err := getSecret(kmsClient(t, config(fc, userAK, userSK, "")), "ghcr-pull", "")
	if err != nil {
		t.Fatal(err)
	}
	b := resp.Body
	if tea.StringValue(b.SecretData) != ghcrLogin || tea.StringValue(b.SecretDataType) != "text" ||
		tea.StringValue(b.SecretName) != "ghcr-pull" || tea.StringValue(b.VersionId) != "v1" ||
		tea.StringValue(b.SecretType) != "Generic" || tea.StringValue(b.RequestId) == "" || b.VersionStages == nil ||
		len(b.VersionStages.VersionStage) != 1 || tea.StringValue(b.VersionStages.VersionStage[0]) != "ACSCurrent" {
		t.Fatalf("unexpected body (SecretData hidden): name=%s version=%s type=%s", tea.StringValue(b.SecretName),
			tea.StringValue(b.VersionId), tea.StringValue(b.SecretDataType))
	}
	if _, err := time.Parse(time.RFC3339, tea.StringValue(b.CreateTime)); err != nil {
		t.Errorf("CreateTime %q: %v", tea.StringValue(b.CreateTime), err)
	}
	c := lastCall(t, fc, "GetSecretValue")
	if c.Service != "kms" || c.Version != "2016-01-20" || c.Style != "ACS3" || c.Method != http.MethodPost ||
		c.Path != "/" || c.Status != 200 || c.AccessKeyID != userAK || c.Params["SecretName"] != "ghcr-pull" {
		t.Fatalf("call = %+v", c)
	}
	if fc.Count("GetSecretValue@2016-01-20") != 1 {
		t.Fatal("Count by version does not see the KMS call")
	}
}

func TestKMSVersionsAndRotation(t *testing.T) {
	fc := kmsWorld(t)
	cl := kmsClient(t, config(fc, userAK, userSK, ""))
	arn := "acs:kms:cn-hangzhou:" + acct + ":secret/ghcr-pull"
	id, err := fc.PutSecretValue(arn, rotated)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stage, versionID, want string
	}{
		{"default is ACSCurrent", "", "", rotated},
		{"explicit ACSCurrent", "ACSCurrent", "", rotated},
		{"previous", "ACSPrevious", "", ghcrLogin},
		{"by ARN", "", "", rotated},
		{"by version id", "", "v1", ghcrLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &kms.GetSecretValueRequest{SecretName: tea.String("ghcr-pull")}
			if tt.name == "by ARN" {
				req.SecretName = tea.String(arn)
			}
			if tt.stage != "" {
				req.VersionStage = tea.String(tt.stage)
			}
			if tt.versionID != "" {
				req.VersionId = tea.String(tt.versionID)
			}
			resp, err := cl.GetSecretValue(req)
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(resp.Body.SecretData) != tt.want {
				t.Errorf("got version %s, want the other one", tea.StringValue(resp.Body.VersionId))
			}
		})
	}
	if id == "v1" || id == "" {
		t.Errorf("new version id %q", id)
	}
	if _, err := getSecret(cl, "ghcr-pull", "NoSuchStage"); err == nil {
		t.Fatal("unknown stage answered")
	} else {
		sdkError(t, err, "Forbidden.ResourceNotFound", 404)
	}
}

func TestKMSErrors(t *testing.T) {
	fc := kmsWorld(t)
	readerSTS, err := fc.IssueSTS(readerRole, "reader", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pullerSTS, err := fc.IssueSTS(pullerARN, "puller", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.AddRole(fakecloud.Role{AccountID: acct, Name: "no-decrypt", Deny: []string{"kms:Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	noDecryptARN := "acs:ram::" + acct + ":role/no-decrypt"
	noDecrypt, err := fc.IssueSTS(noDecryptARN, "nd", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// no-decrypt may read dockerhub-pull as far as the secret's Readers go.
	if err := fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-shanghai", Name: "cmk-secret",
		Readers: []string{noDecryptARN}, EncryptionKeyID: "key-0002",
		Versions: []fakecloud.SecretVersion{{VersionID: "1", Data: ghcrLogin}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		cfg        *openapi.Config
		secret     string
		code       string
		status     int
		msgHas     string
		wantAnswer bool
	}{
		{"unknown name", config(fc, userAK, userSK, ""), "nope", "Forbidden.ResourceNotFound", 404, "Resource not found", false},
		{"unknown ARN", config(fc, userAK, userSK, ""), "acs:kms:cn-hangzhou:" + acct + ":secret/nope", "Forbidden.ResourceNotFound", 404, "", false},
		{"not a reader", config(fc, userAK, userSK, ""), sharedARN, "Forbidden.NoPermission", 403,
			"Action: kms:GetSecretValue, Resource: " + sharedARN, false},
		{"other role session not a reader", config(fc, pullerSTS.AccessKeyID, pullerSTS.AccessKeySecret, pullerSTS.SecurityToken), sharedARN,
			"Forbidden.NoPermission", 403, "kms:GetSecretValue", false},
		{"reader role", config(fc, readerSTS.AccessKeyID, readerSTS.AccessKeySecret, readerSTS.SecurityToken), sharedARN, "", 0, "", true},
		{"other account's ARN", config(fc, userAK, userSK, ""), otherSecret, "Forbidden.NoPermission", 403, otherSecret, false},
		{"other account's secret by name is not found", config(fc, userAK, userSK, ""), "theirs", "Forbidden.ResourceNotFound", 404, "", false},
		{"customer key without kms:Decrypt", config(fc, noDecrypt.AccessKeyID, noDecrypt.AccessKeySecret, noDecrypt.SecurityToken),
			"acs:kms:cn-shanghai:" + acct + ":secret/cmk-secret", "Forbidden.NoPermission", 403,
			"Action: kms:Decrypt, Resource: acs:kms:cn-shanghai:" + acct + ":key/key-0002", false},
		{"wrong secret key", config(fc, userAK, "not-the-secret", ""), "ghcr-pull", "SignatureDoesNotMatch", 400, "", false},
		{"unknown AccessKey", config(fc, "LTAI5tNobody00000009", "x", ""), "ghcr-pull", "InvalidAccessKeyId.NotFound", 404, "", false},
		{"missing name", config(fc, userAK, userSK, ""), "", "MissingSecretName", 400, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := getSecret(kmsClient(t, tt.cfg), tt.secret, "")
			if tt.wantAnswer {
				if err != nil {
					t.Fatalf("want an answer, got %v", err)
				}
				return
			}
			se := sdkError(t, err, tt.code, tt.status)
			if tt.msgHas != "" && !strings.Contains(tea.StringValue(se.Message), tt.msgHas) {
				t.Errorf("message %q lacks %q", tea.StringValue(se.Message), tt.msgHas)
			}
			if strings.Contains(err.Error(), "ghp_SECRETVALUE") {
				t.Error("an error carries the secret value")
			}
		})
	}
	if c := lastCall(t, fc, "GetSecretValue"); c.Service != "kms" || c.ErrorCode != "MissingSecretName" {
		t.Errorf("last call = %+v", c)
	}
}

func TestKMSPrincipalDeny(t *testing.T) {
	fc := kmsWorld(t)
	if err := fc.AddUser(fakecloud.User{AccountID: acct, Name: "nokms", AccessKeyID: "LTAI5tTestNoKMS00006", AccessKeySecret: "sk-nokms",
		Deny: []string{"kms:*"}}); err != nil {
		t.Fatal(err)
	}
	_, err := getSecret(kmsClient(t, config(fc, "LTAI5tTestNoKMS00006", "sk-nokms", "")), "ghcr-pull", "")
	se := sdkError(t, err, "Forbidden.NoPermission", 403)
	want := "Resource: acs:kms:cn-hangzhou:" + acct + ":secret/ghcr-pull"
	if !strings.Contains(tea.StringValue(se.Message), want) {
		t.Errorf("message %q lacks %q", tea.StringValue(se.Message), want)
	}
}

func TestKMSBinarySecret(t *testing.T) {
	fc := kmsWorld(t)
	resp, err := getSecret(kmsClient(t, config(fc, userAK, userSK, "")), "blob", "")
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(resp.Body.SecretDataType) != "binary" || tea.StringValue(resp.Body.SecretData) != "AAEC" {
		t.Fatalf("type %s", tea.StringValue(resp.Body.SecretDataType))
	}
}

func TestKMSRegionHandler(t *testing.T) {
	fc := kmsWorld(t)
	shanghai := httptest.NewServer(fc.RegionHandler("cn-shanghai"))
	defer shanghai.Close()
	hangzhou := httptest.NewServer(fc.RegionHandler("cn-hangzhou"))
	defer hangzhou.Close()
	readerSTS, err := fc.IssueSTS(readerRole, "reader", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	at := func(srv *httptest.Server) *kms.Client {
		return kmsClient(t, configAt(strings.TrimPrefix(srv.URL, "http://"), readerSTS.AccessKeyID, readerSTS.AccessKeySecret, readerSTS.SecurityToken))
	}
	if _, err := getSecret(at(shanghai), sharedARN, ""); err != nil {
		t.Fatalf("ARN in its own region: %v", err)
	}
	if _, err := getSecret(at(shanghai), "dockerhub-pull", ""); err != nil {
		t.Fatalf("name in its own region: %v", err)
	}
	_, err = getSecret(at(hangzhou), sharedARN, "")
	sdkError(t, err, "Forbidden.ResourceNotFound", 404)
	_, err = getSecret(at(hangzhou), "dockerhub-pull", "")
	sdkError(t, err, "Forbidden.ResourceNotFound", 404)
}

func TestAddSecretValidates(t *testing.T) {
	fc := fakecloud.New()
	v := []fakecloud.SecretVersion{{VersionID: "1", Data: "x"}}
	bad := []fakecloud.Secret{
		{AccountID: "x", Region: "cn-hangzhou", Name: "a", Versions: v},
		{AccountID: acct, Region: "", Name: "a", Versions: v},
		{AccountID: acct, Region: "cn-hangzhou", Name: "bad name", Versions: v},
		{AccountID: acct, Region: "cn-hangzhou", Name: "a", DataType: "blob", Versions: v},
		{AccountID: acct, Region: "cn-hangzhou", Name: "a"},
		{AccountID: acct, Region: "cn-hangzhou", Name: "a", Versions: []fakecloud.SecretVersion{{VersionID: "1"}, {VersionID: "1"}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "a", Versions: []fakecloud.SecretVersion{
			{VersionID: "1", Stages: []string{"ACSCurrent"}}, {VersionID: "2", Stages: []string{"ACSCurrent"}}}},
	}
	for i, sec := range bad {
		if err := fc.AddSecret(sec); err == nil {
			t.Errorf("#%d: AddSecret(%+v) accepted", i, sec.Name)
		}
	}
	ok := fakecloud.Secret{AccountID: acct, Region: "cn-hangzhou", Name: "a", Versions: v}
	if err := fc.AddSecret(ok); err != nil {
		t.Fatal(err)
	}
	if err := fc.AddSecret(ok); err == nil {
		t.Error("duplicate secret accepted")
	}
	if _, err := fc.PutSecretValue("acs:kms:cn-hangzhou:"+acct+":secret/missing", "x"); err == nil {
		t.Error("PutSecretValue of an unknown secret accepted")
	}
}
