// Package policy writes the minimal RAM policy document an identity needs for exactly the calls
// a plan makes (doctor --policy). It takes plain data and knows nothing of plans, configs or SDKs.
//
// Actions and resource ARNs, and where they come from:
//
//   - Container Registry. ARN formats acs:cr:$regionid:$accountid:* and
//     acs:cr:$regionid:$accountid:instance/$instanceid, "*" allowed for region and account
//     (Alibaba Cloud ACR docs, "RAM authentication rules", doc-detail/144229 and 144948; the
//     seeds' ECI example scopes an instance as acs:cr:cn-hangzhou:<account>:instance/cri-…).
//     cr:GetAuthorizationToken of an Enterprise instance: the instance ARN, plus
//     acs:cr:$regionid:$accountid:repository/$instanceid, the resource the GetAuthorizationToken
//     API reference names (doc-detail/145324); the sources disagree (the older rules table says
//     "*"), so both forms of that one instance are allowed. The Personal Edition's GET /tokens
//     has no instance: acs:cr:<region>:<account>:*. cr:ListInstance has no resource-level
//     permission ("All Resources" in its API reference, doc-detail/145270): "*".
//     cr:GetInstance and cr:ListInstanceEndpoint act on one instance: its ARN.
//     cr:GetAuthorizationToken, cr:ListInstanceEndpoint and cr:PullRepository are the add-on's
//     minimal pull policy in the seeds (001).
//   - Pulling. A temporary token carries the permissions of the identity that asked for it
//     (GetAuthorizationToken API reference), so every token comes with cr:PullRepository, the
//     one call the client makes with it: on an Enterprise instance its ARN (the seeds' ECI
//     example grants cr:Pull* on acs:cr:<region>:<account>:instance/cri-…) and
//     acs:cr:<region>:<account>:repository/<instance>/* (the rules' repository form); for the
//     Personal Edition acs:cr:<region>:<account>:repository/*.
//   - STS: sts:AssumeRole on the next hop's role ARN acs:ram::<account>:role/<name>.
//   - KMS: kms:GetSecretValue on acs:kms:<region>:<account>:secret/<name>, and kms:Decrypt on
//     acs:kms:<region>:<account>:key/<key-id> where the secret uses a customer key
//     (AlibabaCloudDocs/kms "Use RAM to control access to resources"; the GetSecretValue API
//     reference for kms:Decrypt; seed 003 for the same pair on the AWS side).
//
// An account or region the caller does not know is written "*", never guessed.
package policy

import (
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/acr"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Document is a RAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow statement.
type Statement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Calls is what one identity's plan calls.
type Calls struct {
	// PersonalTokens: cr 2016-06-07 GET /tokens in these regions (and pulling with the token).
	PersonalTokens []Scope
	// Instances: Enterprise Edition calls per instance.
	Instances []Instance
	// AssumeRoles: role ARNs this identity assumes (the next hop of its chain).
	AssumeRoles []string
	// Secrets: KMS secrets this identity reads.
	Secrets []Secret
}

// Scope is a region of an account ("" for either: "*").
type Scope struct {
	Region  string
	Account string
}

// Instance is one Enterprise Edition instance and the calls made on it.
type Instance struct {
	Scope
	ID string // cri-…; "" when only discovery will find it ("*")
	// Token: GetAuthorizationToken (and pulling with it). Discover: ListInstance (finding the id by name).
	// Describe: GetInstance. Endpoints: ListInstanceEndpoint (confirming a domain).
	Token, Discover, Describe, Endpoints bool
}

// Secret is one KMS secret read with GetSecretValue.
type Secret struct {
	Scope
	Name string
	// KeyID is the customer key the secret is encrypted with, "" for the service's own key.
	KeyID string
}

// The actions, in the order statements are written.
var actionOrder = []string{
	"cr:GetAuthorizationToken", "cr:PullRepository", "cr:ListInstance", "cr:GetInstance", "cr:ListInstanceEndpoint",
	"sts:AssumeRole", "kms:GetSecretValue", "kms:Decrypt",
}

var (
	reSecret = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_/+=.@-]{1,192}$`) })
	reKeyID  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`) })
)

func (s Scope) parts() (region, account string, err error) {
	region, account = s.Region, s.Account
	if region == "" {
		region = "*"
	} else if !acr.ValidRegion(region) {
		return "", "", fmt.Errorf("policy: %q is not a region id", s.Region)
	}
	if account == "" {
		account = "*"
	} else if !acr.ValidAccount(account) {
		return "", "", fmt.Errorf("policy: %q is not an account id", s.Account)
	}
	return region, account, nil
}

// For builds the policy that allows exactly calls: one statement per set of actions sharing the
// same resources, actions and resources in a stable order, no duplicates.
func For(calls Calls) (Document, error) {
	grants := map[string]map[string]bool{}
	allow := func(action string, resources ...string) {
		if grants[action] == nil {
			grants[action] = map[string]bool{}
		}
		for _, r := range resources {
			grants[action][r] = true
		}
	}
	for _, p := range calls.PersonalTokens {
		region, account, err := p.parts()
		if err != nil {
			return Document{}, err
		}
		allow("cr:GetAuthorizationToken", "acs:cr:"+region+":"+account+":*")
		allow("cr:PullRepository", "acs:cr:"+region+":"+account+":repository/*")
	}
	for _, in := range calls.Instances {
		region, account, err := in.parts()
		if err != nil {
			return Document{}, err
		}
		id := in.ID
		if id == "" {
			id = "*"
		} else if !acr.ValidInstanceID(id) {
			return Document{}, fmt.Errorf("policy: %q is not an instance id", in.ID)
		}
		base := "acs:cr:" + region + ":" + account + ":"
		if in.Token {
			allow("cr:GetAuthorizationToken", base+"instance/"+id, base+"repository/"+id)
			allow("cr:PullRepository", base+"instance/"+id, base+"repository/"+id+"/*")
		}
		if in.Discover {
			allow("cr:ListInstance", "*")
		}
		if in.Describe {
			allow("cr:GetInstance", base+"instance/"+id)
		}
		if in.Endpoints {
			allow("cr:ListInstanceEndpoint", base+"instance/"+id)
		}
	}
	for _, arn := range calls.AssumeRoles {
		if _, ok := acr.ParseRoleARN(arn); !ok {
			return Document{}, fmt.Errorf("policy: %q is not a role ARN acs:ram::<account>:role/<name>", arn)
		}
		allow("sts:AssumeRole", arn)
	}
	for _, s := range calls.Secrets {
		region, account, err := s.parts()
		if err != nil {
			return Document{}, err
		}
		if !reSecret().MatchString(s.Name) {
			return Document{}, fmt.Errorf("policy: %q is not a KMS secret name", s.Name)
		}
		allow("kms:GetSecretValue", "acs:kms:"+region+":"+account+":secret/"+s.Name)
		if s.KeyID != "" {
			if !reKeyID().MatchString(s.KeyID) {
				return Document{}, fmt.Errorf("policy: %q is not a KMS key id", s.KeyID)
			}
			allow("kms:Decrypt", "acs:kms:"+region+":"+account+":key/"+s.KeyID)
		}
	}
	if len(grants) == 0 {
		return Document{}, errors.New("policy: the plan makes no call that needs a permission")
	}

	// Group actions whose resource sets are equal, in actionOrder.
	doc := Document{Version: "1"}
	index := map[string]int{} // resource set key → statement
	for _, action := range actionOrder {
		set, ok := grants[action]
		if !ok {
			continue
		}
		res := make([]string, 0, len(set))
		for r := range set {
			res = append(res, r)
		}
		sort.Strings(res)
		key := strings.Join(res, "\n")
		if i, ok := index[key]; ok {
			doc.Statement[i].Action = append(doc.Statement[i].Action, action)
			continue
		}
		index[key] = len(doc.Statement)
		doc.Statement = append(doc.Statement, Statement{Effect: "Allow", Action: []string{action}, Resource: res})
	}
	return doc, nil
}

// JSON is the document as RAM's console and CLI take it: indented, with a final newline.
func (d Document) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d) // only strings and slices: cannot fail
	return b.Bytes()
}
