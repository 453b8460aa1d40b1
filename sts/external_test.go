package sts

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "/usr/bin/creds", want: []string{"/usr/bin/creds"}},
		{in: "  creds  --a 'b c'\t\"d \\\"e\\\" $HOME\" f\\ g ", want: []string{"creds", "--a", "b c", `d "e" $HOME`, "f g"}},
		{in: `creds "" ''`, want: []string{"creds", "", ""}},
		{in: "creds $(rm -rf /) ; echo `x` | y", want: []string{"creds", "$(rm", "-rf", "/)", ";", "echo", "`x`", "|", "y"}},
		{in: "creds 'open", wantErr: "unclosed quote"},
		{in: "   ", wantErr: "empty"},
	} {
		got, err := splitCommand(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// The output shapes the CLI and credentials-go read; errors never quote the output.
func TestParseExternalOutput(t *testing.T) {
	const secret = "s3cr3t-value"
	for _, tc := range []struct {
		out, mode, wantErr string
	}{
		{out: `{"mode":"AK","access_key_id":"LTAI","access_key_secret":"` + secret + `"}`, mode: "AK"},
		{out: `{"access_key_id":"STS.x","access_key_secret":"` + secret + `","sts_token":"t","expiration":"2030-01-01T00:00:00Z"}` + "\n", mode: "StsToken"},
		{out: `{"access_key_id":"LTAI","access_key_secret":"` + secret + `","ram_role_arn":"acs:ram::1:role/r"}`, mode: "RamRoleArn"},
		{out: `{"mode":"StsToken","access_key_id":"STS.x","access_key_secret":"` + secret + `"}`, wantErr: "without sts_token"},
		{out: `{"mode":"EcsRamRole","ram_role_name":"x"}`, wantErr: `mode "EcsRamRole"`},
		{out: `{"mode":"AK","access_key_id":"LTAI"}`, wantErr: "no access_key_secret"},
		{out: "starting " + secret + "\n" + `{"mode":"AK","access_key_id":"LTAI","access_key_secret":"` + secret + `"}`, wantErr: "bytes before the JSON"},
		{out: `{"mode":"AK","access_key_id":"LTAI","access_key_secret":"` + secret + `"}` + "\ndone " + secret, wantErr: "not one JSON profile"},
		{out: "", wantErr: "not one JSON profile"},
	} {
		doc, err := parseExternalOutput([]byte(tc.out))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), secret) {
				t.Errorf("%q: %v, want %q", tc.out, err, tc.wantErr)
			}
			continue
		}
		if err != nil || doc.Mode != tc.mode {
			t.Errorf("%q: %+v %v", tc.out, doc.Mode, err)
		}
	}
}
