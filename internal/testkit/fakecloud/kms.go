package fakecloud

// KMS Secrets Manager, KMS 2016-01-20 RPC: GetSecretValue.
//
// Wire format. kms-20160120/v3 (v3.2.3) builds GetSecretValue as Action GetSecretValue, Version
// 2016-01-20, POST /, Style RPC, ReqBodyType formData, BodyType json, with SecretName,
// VersionStage, VersionId, FetchExtendedConfig and DryRun in the query. Its client leaves
// SignatureVersion unset, so darabonba-openapi's CallApi takes DoRequest: the request is signed
// with ACS3-HMAC-SHA256 exactly as the cr and STS calls are, and authACS3 checks it. The answer
// carries the fields of the SDK's GetSecretValueResponseBody: SecretName, VersionId, SecretData,
// SecretDataType ("text" or "binary"), SecretType, VersionStages{VersionStage[]}, CreateTime,
// RequestId (all strings, as in the API reference's sample, AlibabaCloudDocs/kms
// "intl.en-US/API Reference/Secrets/GetSecretValue.md").
//
// Errors, in the gateway's shape (apiError), and where each comes from:
//   - 404 Forbidden.ResourceNotFound: no such secret for this caller in this region, or no version
//     with the asked VersionStage/VersionId. Code and status from the KMS API reference's error
//     table for the Secrets API (AlibabaCloudDocs/kms "intl.en-US/API Reference/Secrets/
//     CreateSecret.md": "404 Forbidden.ResourceNotFound The resource is not found."); public
//     callers of GetSecretValue/DescribeSecret key on the code (aliyun/terraform-provider-alicloud
//     kms service, aliyun secretsmanager clients) and one checks the SDK message
//     "code: 404, Resource not found", which is the Message used here.
//   - 403 Forbidden.NoPermission: RAM does not allow kms:GetSecretValue on the secret (principal
//     Deny, the secret's Readers, a secret of another account asked for by ARN), or kms:Decrypt
//     on the secret's customer key. Code and status from the same error table ("403
//     Forbidden.NoPermission You are not authorized to perform the operation."); the action
//     names kms:GetSecretValue and kms:Decrypt and the resource ARN forms
//     acs:kms:<region>:<account>:secret/<name> and …:key/<key-id> from AlibabaCloudDocs/kms
//     "intl.en-US/Access control and audit/Use RAM to control access to resources.md". The
//     AccessDeniedDetail block is the gateway's, as for cr (noPermission). Answering an
//     other-account ARN with 403 rather than 404 is our choice: nothing public shows which.
//   - 400 MissingSecretName, the gateway's Missing<Parameter> form, as for the cr actions.
//
// Region. A request's region is the one in its Host (kms.<region>.aliyuncs.com or
// kms-vpc.<region>.aliyuncs.com), or the one of the RegionHandler that served it; on the plain
// loopback listener it is unknown and every region matches. An ARN must name the secret's
// region, and the request's region when that is known (the real endpoint of one region has no
// secrets of another: 404).

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

const versionKMS = "2016-01-20"

// Secret version stages the service manages itself.
const (
	StageCurrent  = "ACSCurrent"
	StagePrevious = "ACSPrevious"
)

// Secret is a KMS Secrets Manager secret.
type Secret struct {
	AccountID string `json:"account"`
	Region    string `json:"region"`
	Name      string `json:"name"`
	// DataType is "text" (default) or "binary". For binary the Data of a version is what the
	// API returns in SecretData.
	DataType string `json:"dataType,omitempty"`
	// SecretType defaults to Generic.
	SecretType string `json:"secretType,omitempty"`
	// Versions of the value; the first one without Stages gets ACSCurrent.
	Versions []SecretVersion `json:"versions"`
	// Readers are the principals allowed kms:GetSecretValue on this secret: user ARNs, role
	// ARNs (any session of the role) or "acs:ram::<account>:root" (every principal of the
	// account). Empty: every principal of the owning account not denied the action.
	Readers []string `json:"readers,omitempty"`
	// EncryptionKeyID names a customer key; reading then also needs kms:Decrypt on it (denied by
	// a principal Deny of "kms:Decrypt").
	EncryptionKeyID string `json:"encryptionKeyId,omitempty"`
}

// SecretVersion is one stored value of a secret.
type SecretVersion struct {
	VersionID string   `json:"versionId"`
	Data      string   `json:"data"`
	Stages    []string `json:"stages,omitempty"`
}

// ARN is acs:kms:<region>:<account>:secret/<name>.
func (sec Secret) ARN() string {
	return "acs:kms:" + sec.Region + ":" + sec.AccountID + ":secret/" + sec.Name
}

// KeyARN is the ARN of the secret's customer key, "" without one.
func (sec Secret) KeyARN() string {
	if sec.EncryptionKeyID == "" {
		return ""
	}
	return "acs:kms:" + sec.Region + ":" + sec.AccountID + ":key/" + sec.EncryptionKeyID
}

// kmsStore is the KMS state of a Server (its zero value is ready).
type kmsStore struct {
	mu      sync.Mutex
	secrets []*storedSecret
}

type storedSecret struct {
	Secret
	created time.Time
	nextVer int
}

var (
	reSecretName = regexp.MustCompile(`^[A-Za-z0-9_/+=.@-]{1,192}$`)
	reRegion     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	reKMSHost    = regexp.MustCompile(`^kms(?:-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com(?::[0-9]+)?$`)
	reSecretARN  = regexp.MustCompile(`^acs:kms:([a-z0-9-]+):([0-9]+):secret/(.+)$`)
)

func (sec Secret) validate() error {
	if !reAccount.MatchString(sec.AccountID) {
		return fmt.Errorf("fakecloud: secret %q: bad account id %q", sec.Name, sec.AccountID)
	}
	if !reRegion.MatchString(sec.Region) {
		return fmt.Errorf("fakecloud: secret %q: bad region %q", sec.Name, sec.Region)
	}
	if !reSecretName.MatchString(sec.Name) {
		return fmt.Errorf("fakecloud: bad secret name %q", sec.Name)
	}
	if sec.DataType != "" && sec.DataType != "text" && sec.DataType != "binary" {
		return fmt.Errorf("fakecloud: secret %q: DataType must be text or binary", sec.Name)
	}
	if len(sec.Versions) == 0 {
		return fmt.Errorf("fakecloud: secret %q needs a version", sec.Name)
	}
	seen := map[string]bool{}
	for _, v := range sec.Versions {
		if v.VersionID == "" || seen[v.VersionID] {
			return fmt.Errorf("fakecloud: secret %q: version ids must be set and unique", sec.Name)
		}
		seen[v.VersionID] = true
	}
	return nil
}

// AddSecret registers a secret. A version stage may mark one version only; ACSCurrent goes to
// the first version when no version has it.
func (s *Server) AddSecret(sec Secret) error {
	if err := sec.validate(); err != nil {
		return err
	}
	if sec.DataType == "" {
		sec.DataType = "text"
	}
	if sec.SecretType == "" {
		sec.SecretType = "Generic"
	}
	sec.Readers = append([]string(nil), sec.Readers...)
	versions := make([]SecretVersion, len(sec.Versions))
	owner := map[string]string{}
	for i, v := range sec.Versions {
		v.Stages = append([]string(nil), v.Stages...)
		for _, st := range v.Stages {
			if prev, ok := owner[st]; ok {
				return fmt.Errorf("fakecloud: secret %q: stage %s on versions %s and %s", sec.Name, st, prev, v.VersionID)
			}
			owner[st] = v.VersionID
		}
		versions[i] = v
	}
	if _, ok := owner[StageCurrent]; !ok {
		versions[0].Stages = append(versions[0].Stages, StageCurrent)
	}
	sec.Versions = versions
	st := &s.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, x := range st.secrets {
		if x.AccountID == sec.AccountID && x.Region == sec.Region && x.Name == sec.Name {
			return fmt.Errorf("fakecloud: secret %s already registered", sec.ARN())
		}
	}
	st.secrets = append(st.secrets, &storedSecret{Secret: sec, created: time.Now().UTC().Truncate(time.Second), nextVer: len(versions) + 1})
	return nil
}

// PutSecretValue stores a new version of a registered secret, as the PutSecretValue API does
// by default: the new version becomes ACSCurrent and the old current one ACSPrevious. It
// returns the new version id.
func (s *Server) PutSecretValue(secretARN, data string) (string, error) {
	st := &s.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	sec := st.byARNLocked(secretARN)
	if sec == nil {
		return "", fmt.Errorf("fakecloud: unknown secret %s", secretARN)
	}
	id := fmt.Sprintf("v%d", sec.nextVer)
	sec.nextVer++
	versions := make([]SecretVersion, 0, len(sec.Versions)+1)
	for _, v := range sec.Versions {
		var stages []string
		for _, stg := range v.Stages {
			switch stg {
			case StagePrevious:
			case StageCurrent:
				stages = append(stages, StagePrevious)
			default:
				stages = append(stages, stg)
			}
		}
		v.Stages = stages
		versions = append(versions, v)
	}
	sec.Versions = append(versions, SecretVersion{VersionID: id, Data: data, Stages: []string{StageCurrent}})
	return id, nil
}

func (st *kmsStore) byARNLocked(arn string) *storedSecret {
	for _, x := range st.secrets {
		if x.ARN() == arn {
			return x
		}
	}
	return nil
}

type regionKey struct{}

// RegionHandler is Handler as reached through the KMS endpoint of region
// (kms.<region>.aliyuncs.com): the KMS actions see only that region's secrets. Serve it on a
// listener of its own to give a test one loopback endpoint per region.
func (s *Server) RegionHandler(region string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r.WithContext(context.WithValue(r.Context(), regionKey{}, region)))
	})
}

// requestRegion is the region of the endpoint a request came through, "" when unknown.
func requestRegion(r *http.Request) string {
	if region, ok := r.Context().Value(regionKey{}).(string); ok {
		return region
	}
	if m := reKMSHost.FindStringSubmatch(r.Host); m != nil {
		return m[1]
	}
	return ""
}

// kmsHandler returns the handler of a KMS action, nil for an action the fake does not play.
func (s *Server) kmsHandler(action string) func(*reqCtx, *principal) *response {
	switch action {
	case "GetSecretValue":
		return s.kmsGetSecretValue
	}
	return nil
}

func (s *Server) kmsResourceNotFound(rc *reqCtx) *response {
	return s.apiError(rc, http.StatusNotFound, "Forbidden.ResourceNotFound", "Resource not found")
}

// kmsNoPermission is the RAM denial of a KMS action on resource.
func (s *Server) kmsNoPermission(rc *reqCtx, p *principal, perm, resource string) *response {
	ptype := "SubUser"
	switch p.kind {
	case "root":
		ptype = "Account"
	case "session":
		ptype = "AssumedRoleUser"
	}
	return s.apiErrorWith(rc, http.StatusForbidden, "Forbidden.NoPermission",
		"You are not authorized to perform the operation. Action: "+perm+", Resource: "+resource+".",
		map[string]any{"AccessDeniedDetail": map[string]any{
			"AuthAction":               perm,
			"AuthPrincipalType":        ptype,
			"AuthPrincipalOwnerId":     p.accountID,
			"AuthPrincipalDisplayName": p.name,
			"NoPermissionType":         "ImplicitDeny",
			"PolicyType":               "AccountLevelIdentityBasedPolicy",
		}})
}

// mayRead applies the secret's Readers (the resource part of the RAM decision).
func (sec *storedSecret) mayRead(p *principal) bool {
	if p.accountID != sec.AccountID {
		return false
	}
	if len(sec.Readers) == 0 {
		return true
	}
	for _, r := range sec.Readers {
		if strings.EqualFold(r, p.trustARN) || strings.EqualFold(r, "acs:ram::"+p.accountID+":root") {
			return true
		}
	}
	return false
}

// findSecret resolves SecretName (a name in the caller's account, or an ARN) in region ("" any);
// otherAccount reports an ARN of a secret owned by another account than the caller's.
func (s *Server) findSecret(p *principal, ref, region string) (sec *storedSecret, otherAccount bool) {
	st := &s.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	if m := reSecretARN.FindStringSubmatch(ref); m != nil {
		if region != "" && m[1] != region {
			return nil, false
		}
		for _, x := range st.secrets {
			if x.Region == m[1] && x.AccountID == m[2] && x.Name == m[3] {
				cp := *x
				cp.Versions = append([]SecretVersion(nil), x.Versions...)
				return &cp, m[2] != p.accountID
			}
		}
		return nil, false
	}
	for _, x := range st.secrets {
		if x.AccountID == p.accountID && x.Name == ref && (region == "" || x.Region == region) {
			cp := *x
			cp.Versions = append([]SecretVersion(nil), x.Versions...)
			return &cp, false
		}
	}
	return nil, false
}

func (s *Server) kmsGetSecretValue(rc *reqCtx, p *principal) *response {
	name := rc.params["SecretName"]
	if name == "" {
		return s.apiError(rc, http.StatusBadRequest, "MissingSecretName", "SecretName is mandatory for this action.")
	}
	region := requestRegion(rc.r)
	sec, other := s.findSecret(p, name, region)
	resource := name
	if sec != nil {
		resource = sec.ARN()
	} else if !reSecretARN.MatchString(name) {
		r := region
		if r == "" {
			r = "*"
		}
		resource = "acs:kms:" + r + ":" + p.accountID + ":secret/" + name
	}
	if p.denied("kms:GetSecretValue") || other || (sec != nil && !sec.mayRead(p)) {
		return s.kmsNoPermission(rc, p, "kms:GetSecretValue", resource)
	}
	if sec == nil {
		return s.kmsResourceNotFound(rc)
	}
	stage, id := rc.params["VersionStage"], rc.params["VersionId"]
	if stage == "" && id == "" {
		stage = StageCurrent
	}
	var v *SecretVersion
	for i := range sec.Versions {
		x := &sec.Versions[i]
		if id != "" && x.VersionID != id {
			continue
		}
		if stage != "" && !contains(x.Stages, stage) {
			continue
		}
		v = x
		break
	}
	if v == nil {
		return s.kmsResourceNotFound(rc)
	}
	if key := sec.KeyARN(); key != "" && p.denied("kms:Decrypt") {
		return s.kmsNoPermission(rc, p, "kms:Decrypt", key)
	}
	stages := append([]string(nil), v.Stages...)
	sort.Strings(stages)
	return jsonResponse(http.StatusOK, map[string]any{
		"SecretName":     sec.Name,
		"VersionId":      v.VersionID,
		"SecretData":     v.Data,
		"SecretDataType": sec.DataType,
		"SecretType":     sec.SecretType,
		"VersionStages":  map[string]any{"VersionStage": stages},
		"CreateTime":     sec.created.Format(timeLayout),
		"RequestId":      rc.reqID,
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
