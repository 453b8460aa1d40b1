// Package secrets knows KMS Secrets Manager registry logins: a registry entry's `secret` names an
// Alibaba Cloud KMS secret whose value is a registry login, {"username": "…", "password": "…"},
// read with GetSecretValue by the entry's own identity (credential chain and role hops), so that
// one helper serves Docker Hub, GHCR, Quay or a company registry with no password on disk.
//
// What the code relies on, and where it comes from:
//
//   - The call. KMS API 2016-01-20, RPC style, through the official SDK
//     github.com/alibabacloud-go/kms-20160120/v3 (v3.2.3): its GetSecretValueWithOptions sends
//     Action GetSecretValue, Version 2016-01-20, POST /, ReqBodyType formData, BodyType json, with
//     SecretName (a name or the secret's ARN), VersionStage and VersionId in the query; its client
//     leaves SignatureVersion unset, so darabonba-openapi signs it ACS3-HMAC-SHA256 (DoRequest).
//     Package secrets/kms builds the same request from the SDK client and sends it through
//     internal/cloudapi.Call for the command's deadline, the retries and the error mapping.
//   - The answer, the SDK's GetSecretValueResponseBody: SecretName, VersionId, SecretData,
//     SecretDataType ("text" or "binary"), SecretType, VersionStages.VersionStage []string,
//     CreateTime, RequestId, all strings (model in kms-20160120/v3 client.go; sample answer in
//     AlibabaCloudDocs/kms "intl.en-US/API Reference/Secrets/GetSecretValue.md"). Without
//     VersionStage and VersionId the service answers the version marked ACSCurrent (same page).
//   - Errors. 404 Forbidden.ResourceNotFound ("The resource is not found.") and 403
//     Forbidden.NoPermission ("You are not authorized to perform the operation.") are the Secrets
//     API's codes in its reference error table (AlibabaCloudDocs/kms "intl.en-US/API Reference/
//     Secrets/CreateSecret.md"; the GetSecretValue page points to the same error center). Public
//     callers of the Secrets API handle not-found by that code (aliyun/terraform-provider-alicloud
//     kms service: IsExpectedErrors(err, "Forbidden.ResourceNotFound"); Alibaba's own secrets
//     manager clients; a RocketMQ EventBridge adapter also checks the SDK message "code: 404,
//     Resource not found"). 429 Rejected.Throttling is in the same table.
//   - RAM. The action is kms:GetSecretValue on acs:kms:<region>:<account>:secret/<name>; a secret
//     encrypted with a customer key also needs kms:Decrypt on acs:kms:<region>:<account>:key/<id>
//     (AlibabaCloudDocs/kms "intl.en-US/Access control and audit/Use RAM to control access to
//     resources.md"; the GetSecretValue page says the same of kms:Decrypt).
//   - Endpoints: kms.<region>.aliyuncs.com, kms-vpc.<region>.aliyuncs.com (ACR-FACTS §7; the
//     SDK's EndpointRule "regional").
//
// A secret's value never appears in an error, a log line or a String of this package's types.
package secrets
