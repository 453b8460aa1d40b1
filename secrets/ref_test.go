package secrets

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		secret, region string
		// want: "name|region|account|SecretName", or "error: <substring>"
		want string
	}{
		{"ghcr-pull", "cn-hangzhou", "ghcr-pull|cn-hangzhou||ghcr-pull"},
		{"  team/ci+pull=1.x@y_z  ", "cn-shanghai-finance-1", "team/ci+pull=1.x@y_z|cn-shanghai-finance-1||team/ci+pull=1.x@y_z"},
		{"acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull", "", "dockerhub-pull|cn-shanghai|222222222222|acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull"},
		{"acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull", "cn-shanghai", "dockerhub-pull|cn-shanghai|222222222222|acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull"},
		{"acs:kms:ap-southeast-1:1:secret/a/b/c", "", "a/b/c|ap-southeast-1|1|acs:kms:ap-southeast-1:1:secret/a/b/c"},

		{"", "cn-hangzhou", "error: secret is empty"},
		{"ghcr-pull", "", "error: has no region: set regionId"},
		{"ghcr-pull", "CN Hangzhou", "error: is not a region id"},
		{"ghcr pull", "cn-hangzhou", "error: is not a KMS secret name"},
		{"ghcr:pull", "cn-hangzhou", "error: is not a KMS secret name"},
		{strings.Repeat("a", 193), "cn-hangzhou", "error: is not a KMS secret name"},
		{"acs:kms:cn-shanghai:222222222222:secret/dockerhub-pull", "cn-hangzhou", "error: lives in cn-shanghai but the entry's regionId is cn-hangzhou"},
		{"acs:kms:cn-shanghai:222222222222:key/abc", "", "error: the resource must be secret/<name>"},
		{"acs:kms:cn-shanghai:222222222222:secret/", "", "error: is not a secret name"},
		{"acs:kms:cn-shanghai:222222222222:secret/a b", "", "error: is not a secret name"},
		{"acs:kms::222222222222:secret/x", "", "error: is not a region id"},
		{"acs:kms:*:222222222222:secret/x", "", "error: is not a region id"},
		{"acs:kms:cn-shanghai:*:secret/x", "", "error: is not an account id"},
		{"acs:kms:cn-shanghai::secret/x", "", "error: is not an account id"},
		{"acs:ram::222222222222:role/x", "", "error: must start with acs:kms:"},
		{"acs:oss:cn-shanghai:222222222222:secret/x", "", "error: must start with acs:kms:"},
		{"ACS:KMS:cn-shanghai:222222222222:secret/x", "", "error: must start with acs:kms:"},
		{"acs:kms:cn-shanghai:222222222222", "", "error: five parts"},
	}
	for _, tt := range tests {
		r, err := ParseRef(tt.secret, tt.region)
		var got string
		if err != nil {
			got = "error: " + err.Error()
			if !strings.HasPrefix(tt.want, "error: ") || !strings.Contains(got, strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("ParseRef(%q, %q) = %s, want %s", tt.secret, tt.region, got, tt.want)
			}
			continue
		}
		got = strings.Join([]string{r.Name, r.Region, r.Account, r.SecretName()}, "|")
		if got != tt.want {
			t.Errorf("ParseRef(%q, %q) = %s, want %s", tt.secret, tt.region, got, tt.want)
		}
	}
}

func TestRefARN(t *testing.T) {
	bare, err := ParseRef("ghcr-pull", "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if got := bare.ARN(); got != "acs:kms:cn-hangzhou:*:secret/ghcr-pull" {
		t.Errorf("ARN of a bare name = %s", got)
	}
	if got := bare.String(); got != "ghcr-pull (cn-hangzhou)" {
		t.Errorf("String = %s", got)
	}
	withAcct := bare.WithAccount("111111111111")
	if got := withAcct.ARN(); got != "acs:kms:cn-hangzhou:111111111111:secret/ghcr-pull" {
		t.Errorf("ARN with account = %s", got)
	}
	if withAcct.SecretName() != "ghcr-pull" {
		t.Errorf("a bare name must be sent as a name, got %s", withAcct.SecretName())
	}
	if got := bare.WithAccount("not-an-account").ARN(); got != bare.ARN() {
		t.Errorf("a bad account was taken: %s", got)
	}
	arn, err := ParseRef("acs:kms:cn-shanghai:222222222222:secret/x", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := arn.WithAccount("111111111111").ARN(); got != "acs:kms:cn-shanghai:222222222222:secret/x" {
		t.Errorf("WithAccount changed an ARN's account: %s", got)
	}
}

func TestCheckStage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "ACSCurrent"},
		{"  ", "ACSCurrent"},
		{"ACSPrevious", "ACSPrevious"},
		{"blue-2024.1", "blue-2024.1"},
		{"ACS Current", "error"},
		{"a/b", "error"},
		{strings.Repeat("s", 65), "error"},
	} {
		got, err := CheckStage(tt.in)
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("CheckStage(%q) = %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}
