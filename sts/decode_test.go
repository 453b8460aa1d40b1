package sts

import (
	"bytes"
	"encoding/json"
	"testing"
)

// asSDKReadsIt parses a body as darabonba does (UseNumber).
func asSDKReadsIt(t *testing.T, body string) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// An AssumeRole* answer is decoded by the one tolerant decoder: a field the helper does not read
// may change type (before, json.Unmarshal into the SDK model failed the whole call on it); the
// fields it reads must be there.
func TestDecodeSTSTolerant(t *testing.T) {
	creds := `"Credentials":{"AccessKeyId":"STS.id","AccessKeySecret":"s","SecurityToken":"tok","Expiration":"2030-01-01T00:00:00Z"}`
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"as documented", `{"RequestId":"r",` + creds + `,"AssumedRoleUser":{"Arn":"a","AssumedRoleId":"i"}}`, true},
		{"unread fields of another type", `{"RequestId":7,` + creds + `,"AssumedRoleUser":5,"SourceIdentity":["x"]}`, true},
		{"no Credentials", `{"RequestId":"r"}`, false},
		{"Credentials not an object", `{"Credentials":"x"}`, false},
		{"no SecurityToken", `{"Credentials":{"AccessKeyId":"STS.id","AccessKeySecret":"s","Expiration":"2030-01-01T00:00:00Z"}}`, false},
	} {
		c, err := decodeSTS(asSDKReadsIt(t, tt.body), "test")
		if (err == nil) != tt.ok {
			t.Errorf("%s: %+v, %v", tt.name, c, err)
		}
		if tt.ok && (c.AccessKeyID != "STS.id" || c.SecurityToken != "tok" || c.Expiration.Year() != 2030) {
			t.Errorf("%s: decoded %+v", tt.name, c)
		}
	}
}
