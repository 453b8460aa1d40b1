package sts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every profile mode credentials-go v1.4.14 reads, from the CLI config and the credentials file,
// without the network: the static ones answer, the others are built into the right source.
func TestNewProfileChainModes(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(home, rel)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".aliyun/config.json", `{"current":"ak","profiles":[
		{"name":"ak","mode":"AK","access_key_id":"LTAIak","access_key_secret":"s1"},
		{"name":"sts","mode":"StsToken","access_key_id":"STS.x","access_key_secret":"s2","sts_token":"tok"},
		{"name":"arn","mode":"RamRoleArn","access_key_id":"LTAIarn","access_key_secret":"s3","ram_role_arn":"acs:ram::1:role/r"},
		{"name":"chain","mode":"ChainableRamRoleArn","source_profile":"arn","ram_role_arn":"acs:ram::2:role/r2"},
		{"name":"loop","mode":"ChainableRamRoleArn","source_profile":"loop","ram_role_arn":"acs:ram::2:role/r2"},
		{"name":"ecs","mode":"EcsRamRole","ram_role_name":"node"},
		{"name":"oidc","mode":"OIDC","ram_role_arn":"acs:ram::1:role/o","oidc_provider_arn":"acs:ram::1:oidc-provider/p","oidc_token_file":"/t"},
		{"name":"sso","mode":"CloudSSO"},
		{"name":"pol","mode":"RamRoleArn","access_key_id":"a","access_key_secret":"b","ram_role_arn":"acs:ram::1:role/r","policy":"{}"},
		{"name":"odd","mode":"Weird"}]}`)
	write(".alibabacloud/credentials", "[ini-ak]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s4\n\n[ini-arn]\ntype = ram_role_arn\naccess_key_id = LTAIx\naccess_key_secret = y\nrole_arn = acs:ram::1:role/i\nrole_session_name = s\n\n[ini-ecs]\ntype = ecs_ram_role\nrole_name = node\n\n[ak]\ntype = access_key\naccess_key_id = shadowed\naccess_key_secret = z\n")
	o := ChainOptions{Getenv: testEnv{"HOME": home}.get, DMIDir: home}
	for _, tc := range []struct {
		name, wantKey, wantDescribe, wantErr string
	}{
		{name: "ak", wantKey: "LTAIak", wantDescribe: `CLI profile "ak"`},
		{name: "sts", wantKey: "STS.x", wantDescribe: `CLI profile "sts"`},
		{name: "arn", wantDescribe: `CLI profile "arn"`},
		{name: "chain", wantDescribe: `CLI profile "chain"`},
		{name: "loop", wantErr: "more than 8 profiles"},
		{name: "ecs", wantDescribe: `CLI profile "ecs"`},
		{name: "oidc", wantDescribe: `CLI profile "oidc"`},
		{name: "sso", wantErr: "browser sign-in"},
		{name: "pol", wantErr: "session policy"},
		{name: "odd", wantErr: `mode "Weird"`},
		{name: "ini-ak", wantKey: "LTAIini", wantDescribe: `credentials file profile "ini-ak"`},
		{name: "ini-arn", wantDescribe: `credentials file profile "ini-arn"`},
		{name: "ini-ecs", wantDescribe: `credentials file profile "ini-ecs"`},
		{name: "nope", wantErr: `profile "nope" is neither in the Alibaba Cloud CLI config ` + filepath.Join(home, ".aliyun/config.json") + ` (profiles: ak, sts, arn, chain, loop, ecs, oidc, sso, pol, odd) nor in the credentials file ` + filepath.Join(home, ".alibabacloud/credentials") + ` (profiles: ak, ini-ak, ini-arn, ini-ecs)`},
	} {
		c, err := NewProfileChain(o, tc.name)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(c.Describe(), tc.wantDescribe) || len(c.Sources()) != 1 {
			t.Errorf("%s: %v %q %v", tc.name, err, c.Describe(), c.Sources())
			continue
		}
		if tc.wantKey != "" {
			if cr, err := c.Credentials(context.Background()); err != nil || cr.AccessKeyID != tc.wantKey {
				t.Errorf("%s: %v %v", tc.name, cr, err)
			}
		}
	}
	var nf *ProfileNotFoundError
	if _, err := NewProfileChain(o, "nope"); !errors.As(err, &nf) {
		t.Errorf("not a ProfileNotFoundError: %v", err)
	}
	a, _ := NewProfileChain(o, "ak")
	b, _ := NewProfileChain(o, "ini-ak")
	if a.Identity() == b.Identity() {
		t.Error("two profiles, one identity")
	}
}

// In the default chain a credentials file without the chosen section is absent (its sections may
// serve `profile:` entries), but ALIBABA_CLOUD_PROFILE naming a profile that no file has is a
// failing source, never skipped.
func TestDefaultChainProfiles(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".alibabacloud"), 0o700)
	os.WriteFile(filepath.Join(home, ".alibabacloud", "credentials"), []byte("[ops]\ntype = access_key\naccess_key_id = LTAIops\naccess_key_secret = s\n"), 0o600)
	env := testEnv{"HOME": home}
	if c := NewChain(ChainOptions{Getenv: env.get, DMIDir: home}); !c.Empty() {
		t.Errorf("no [default]: sources %v", c.Sources())
	}
	env["ALIBABA_CLOUD_PROFILE"] = "ops"
	if c := NewChain(ChainOptions{Getenv: env.get, DMIDir: home}); !strings.Contains(c.Describe(), `"ops"`) {
		t.Errorf("ALIBABA_CLOUD_PROFILE=ops: %v", c.Sources())
	}
	env["ALIBABA_CLOUD_PROFILE"] = "missing"
	c := NewChain(ChainOptions{Getenv: env.get, DMIDir: home})
	if _, err := c.Credentials(context.Background()); err == nil || !strings.Contains(err.Error(), "profiles: ops") || !strings.Contains(err.Error(), "ALIBABA_CLOUD_PROFILE") {
		t.Errorf("missing profile: %v (%v)", err, c.Sources())
	}
}

// Issue 20 §8: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns the metadata service off for
// EcsRamRole profiles too (CLI config and credentials file, named or the default chain's): the
// profile fails with the reason, and nothing dials the metadata service.
func TestECSProfilesHonourMetadataDisabled(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700)
	os.MkdirAll(filepath.Join(home, ".alibabacloud"), 0o700)
	os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(`{"current":"ecs","profiles":[{"name":"ecs","mode":"EcsRamRole","ram_role_name":"node"}]}`), 0o600)
	os.WriteFile(filepath.Join(home, ".alibabacloud", "credentials"), []byte("[default]\ntype = ecs_ram_role\nrole_name = node\n"), 0o600)
	env := testEnv{"HOME": home, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	o := ChainOptions{Getenv: env.get, DMIDir: home}
	for _, name := range []string{"ecs", "default"} {
		if _, err := NewProfileChain(o, name); err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true") {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	for _, disableCLI := range []string{"", "true"} {
		env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = disableCLI
		c := NewChain(o)
		// Only a broken source is asked (one that would dial is never called here).
		if !strings.HasSuffix(c.Identity(), "\x00broken") {
			t.Fatalf("CLI disabled %q: the default chain's source %q would reach the metadata service", disableCLI, c.Describe())
		}
		if _, err := c.Credentials(context.Background()); err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true") {
			t.Errorf("CLI disabled %q: %v", disableCLI, err)
		}
	}
}
