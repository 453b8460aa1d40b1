package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const (
	acct  = "1609982529000000"
	other = "2222222222222222"
)

func TestFor(t *testing.T) {
	inst := "cri-nwj395hgf6f3abcd"
	tests := []struct {
		name  string
		calls Calls
		want  []Statement
	}{
		{
			name:  "Enterprise token only: the instance, nothing else",
			calls: Calls{Instances: []Instance{{Scope: Scope{"cn-hangzhou", acct}, ID: inst, Token: true}}},
			want: []Statement{
				{"Allow", []string{"cr:GetAuthorizationToken"}, []string{
					"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst,
					"acs:cr:cn-hangzhou:" + acct + ":repository/" + inst,
				}},
				{"Allow", []string{"cr:PullRepository"}, []string{
					"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst,
					"acs:cr:cn-hangzhou:" + acct + ":repository/" + inst + "/*",
				}},
			},
		},
		{
			name:  "discovery by name and domain confirmation",
			calls: Calls{Instances: []Instance{{Scope: Scope{"cn-hangzhou", acct}, ID: inst, Token: true, Discover: true, Describe: true, Endpoints: true}}},
			want: []Statement{
				{"Allow", []string{"cr:GetAuthorizationToken"}, []string{
					"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst, "acs:cr:cn-hangzhou:" + acct + ":repository/" + inst}},
				{"Allow", []string{"cr:PullRepository"}, []string{
					"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst, "acs:cr:cn-hangzhou:" + acct + ":repository/" + inst + "/*"}},
				{"Allow", []string{"cr:ListInstance"}, []string{"*"}},
				{"Allow", []string{"cr:GetInstance", "cr:ListInstanceEndpoint"}, []string{"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst}},
			},
		},
		{
			name:  "Personal Edition, account unknown",
			calls: Calls{PersonalTokens: []Scope{{Region: "cn-beijing"}, {Region: "cn-beijing"}}},
			want: []Statement{
				{"Allow", []string{"cr:GetAuthorizationToken"}, []string{"acs:cr:cn-beijing:*:*"}},
				{"Allow", []string{"cr:PullRepository"}, []string{"acs:cr:cn-beijing:*:repository/*"}},
			},
		},
		{
			name:  "instance id not known before discovery",
			calls: Calls{Instances: []Instance{{Scope: Scope{"cn-shanghai", acct}, Token: true, Discover: true}}},
			want: []Statement{
				{"Allow", []string{"cr:GetAuthorizationToken"}, []string{
					"acs:cr:cn-shanghai:" + acct + ":instance/*", "acs:cr:cn-shanghai:" + acct + ":repository/*"}},
				{"Allow", []string{"cr:PullRepository"}, []string{
					"acs:cr:cn-shanghai:" + acct + ":instance/*", "acs:cr:cn-shanghai:" + acct + ":repository/*/*"}},
				{"Allow", []string{"cr:ListInstance"}, []string{"*"}},
			},
		},
		{
			name:  "a middle hop only assumes the next role",
			calls: Calls{AssumeRoles: []string{"acs:ram::" + other + ":role/acr-puller", "acs:ram::" + other + ":role/acr-puller"}},
			want:  []Statement{{"Allow", []string{"sts:AssumeRole"}, []string{"acs:ram::" + other + ":role/acr-puller"}}},
		},
		{
			name: "secrets, one with a customer key",
			calls: Calls{Secrets: []Secret{
				{Scope: Scope{"cn-shanghai", other}, Name: "dockerhub-pull", KeyID: "key-shh-0001"},
				{Scope: Scope{"cn-hangzhou", ""}, Name: "ghcr-pull"},
			}},
			want: []Statement{
				{"Allow", []string{"kms:GetSecretValue"}, []string{
					"acs:kms:cn-hangzhou:*:secret/ghcr-pull", "acs:kms:cn-shanghai:" + other + ":secret/dockerhub-pull"}},
				{"Allow", []string{"kms:Decrypt"}, []string{"acs:kms:cn-shanghai:" + other + ":key/key-shh-0001"}},
			},
		},
		{
			name: "everything an identity may do, in order",
			calls: Calls{
				Secrets:        []Secret{{Scope: Scope{"cn-hangzhou", acct}, Name: "team/ci"}},
				AssumeRoles:    []string{"acs:ram::" + other + ":role/b"},
				PersonalTokens: []Scope{{"cn-hangzhou", acct}},
				Instances:      []Instance{{Scope: Scope{"cn-hangzhou", acct}, ID: inst, Endpoints: true}},
			},
			want: []Statement{
				{"Allow", []string{"cr:GetAuthorizationToken"}, []string{"acs:cr:cn-hangzhou:" + acct + ":*"}},
				{"Allow", []string{"cr:PullRepository"}, []string{"acs:cr:cn-hangzhou:" + acct + ":repository/*"}},
				{"Allow", []string{"cr:ListInstanceEndpoint"}, []string{"acs:cr:cn-hangzhou:" + acct + ":instance/" + inst}},
				{"Allow", []string{"sts:AssumeRole"}, []string{"acs:ram::" + other + ":role/b"}},
				{"Allow", []string{"kms:GetSecretValue"}, []string{"acs:kms:cn-hangzhou:" + acct + ":secret/team/ci"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := For(tt.calls)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Version != "1" || !reflect.DeepEqual(doc.Statement, tt.want) {
				t.Fatalf("got\n%s\nwant %+v", doc.JSON(), tt.want)
			}
		})
	}
}

func TestForRejects(t *testing.T) {
	for _, c := range []Calls{
		{},
		{Instances: []Instance{{Scope: Scope{"cn-hangzhou", acct}, ID: "*", Token: true}}},
		{Instances: []Instance{{Scope: Scope{"cn-hangzhou", acct}, ID: "cri-x/../y", Token: true}}},
		{Instances: []Instance{{Scope: Scope{"CN-Hangzhou", acct}, ID: "cri-abc", Token: true}}},
		{PersonalTokens: []Scope{{"cn-hangzhou", "12345678x"}}},
		{PersonalTokens: []Scope{{"*", acct}}},
		{AssumeRoles: []string{"acs:ram::" + acct + ":role/*"}},
		{AssumeRoles: []string{"acs:ram::" + acct + ":user/ci"}},
		{Secrets: []Secret{{Scope: Scope{"cn-hangzhou", acct}, Name: "a b"}}},
		{Secrets: []Secret{{Scope: Scope{"cn-hangzhou", acct}, Name: "s", KeyID: "key/../x"}}},
	} {
		if doc, err := For(c); err == nil {
			t.Errorf("For(%+v) = %s, want an error", c, doc.JSON())
		}
	}
}

func TestJSON(t *testing.T) {
	doc, err := For(Calls{Secrets: []Secret{{Scope: Scope{"cn-hangzhou", acct}, Name: "a+b=c@d"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := doc.JSON()
	if !strings.HasSuffix(string(out), "}\n") || !strings.Contains(string(out), `"acs:kms:cn-hangzhou:`+acct+`:secret/a+b=c@d"`) {
		t.Fatalf("JSON = %s", out)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	st, _ := back["Statement"].([]any)
	if back["Version"] != "1" || len(st) != 1 {
		t.Fatalf("round trip: %v", back)
	}
	first, _ := st[0].(map[string]any)
	for _, k := range []string{"Effect", "Action", "Resource"} {
		if _, ok := first[k]; !ok {
			t.Errorf("statement lacks %s: %s", k, out)
		}
	}
}
