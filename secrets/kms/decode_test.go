package kms

import (
	"bytes"
	"encoding/json"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// A GetSecretValue answer is decoded by the one tolerant decoder: fields not read may be of any
// type (CreateTime as a number, SecretType as an object), the ones read are read.
func TestDecodeSecretValueTolerant(t *testing.T) {
	body := `{"RequestId":5,"SecretName":"hub","CreateTime":1700000000,"SecretType":{"x":1},
	  "SecretData":"{\"username\":\"u\",\"password\":\"p\"}","SecretDataType":"text","VersionId":"v1",
	  "VersionStages":{"VersionStage":["ACSCurrent"]},"NextRotationDate":null}`
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	var out kmssdk.GetSecretValueResponseBody
	if err := cloudapi.Decode(m, secretRead, &out); err != nil {
		t.Fatal(err)
	}
	if out.SecretData == nil || *out.VersionId != "v1" || *out.SecretDataType != "text" || out.VersionStages == nil || len(out.VersionStages.VersionStage) != 1 {
		t.Errorf("decoded %v", out.VersionId)
	}
	// The strict decoding used before refuses this very body.
	if err := json.Unmarshal([]byte(body), new(kmssdk.GetSecretValueResponseBody)); err == nil {
		t.Error("the test body is not one a strict decoder refuses")
	}
}
