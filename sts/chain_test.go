package sts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
)

// testEnv is the environment a chain sees in a test: the chain reads nothing else, so the
// machine's own credentials never leak in and tests can run in parallel.
type testEnv map[string]string

func (e testEnv) get(k string) string { return e[k] }

// cleanProcessEnv clears what credentials-go itself reads from the process environment, for
// the tests that go on into its providers (the chain finds sources through testEnv only).
func cleanProcessEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.Contains(strings.ToLower(k), "proxy") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
}

func noDMI(t *testing.T) string { return t.TempDir() }

func TestChainSourcesAndIdentity(t *testing.T) {
	cleanProcessEnv(t)
	home := t.TempDir()
	env := testEnv{"HOME": home}
	dmi := noDMI(t)
	opts := ChainOptions{DMIDir: dmi, Getenv: env.get}
	c := NewChain(opts)
	if !c.Empty() || c.Identity() != "" {
		t.Fatalf("clean machine: sources %v", c.Sources())
	}
	if _, err := c.Credentials(context.Background()); err != ErrNoCredentials {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(c.ECSSkipped, "ALIBABA_CLOUD_ECS_METADATA") {
		t.Errorf("ECSSkipped = %q, want a hint naming the switch", c.ECSSkipped)
	}

	// A CLI profile.
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeCLI := func(id string) {
		conf := fmt.Sprintf(`{"current":"dev","profiles":[{"name":"dev","mode":"AK","access_key_id":%q,"access_key_secret":"s3cret"},{"name":"prod","mode":"AK","access_key_id":"LTAIprod","access_key_secret":"x"}]}`, id)
		if err := os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCLI("LTAIdev")
	c = NewChain(opts)
	cliID := c.Identity()
	if !strings.HasPrefix(cliID, "cli\x00") || !strings.Contains(c.Describe(), `"dev"`) {
		t.Fatalf("identity %q, describe %q", cliID, c.Describe())
	}
	cr, err := c.Credentials(context.Background())
	if err != nil || cr.AccessKeyID != "LTAIdev" || cr.AccessKeySecret != "s3cret" {
		t.Fatalf("CLI profile: %v %v", cr, err)
	}
	writeCLI("LTAIother")
	if NewChain(opts).Identity() == cliID {
		t.Error("editing the profile did not change the identity")
	}
	env["ALIBABA_CLOUD_PROFILE"] = "prod"
	if id := NewChain(opts).Identity(); id == cliID || !strings.Contains(id, "prod") {
		t.Errorf("switching profile: identity %q", id)
	}

	// Environment AccessKey comes first.
	env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAIenv1"
	env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "envsecret"
	c = NewChain(opts)
	if c.Identity() != "env\x00LTAIenv1" {
		t.Fatalf("identity %q", c.Identity())
	}
	cr, err = c.Credentials(context.Background())
	if err != nil || cr.AccessKeyID != "LTAIenv1" {
		t.Fatal(cr, err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", cr, cr, cr, cr); strings.Contains(s, "envsecret") {
		t.Errorf("Credentials print their secret: %s", s)
	}
	env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAIenv2"
	if NewChain(opts).Identity() == "env\x00LTAIenv1" {
		t.Error("another AccessKey id has the same identity")
	}
}

func TestECSOnlyWhereItCanExist(t *testing.T) {
	t.Parallel()
	env := testEnv{"HOME": t.TempDir()}
	dmi := t.TempDir()
	has := func(c *Chain) bool {
		for _, s := range c.Sources() {
			if strings.HasPrefix(s, "ECS RAM role") {
				return true
			}
		}
		return false
	}
	if has(NewChain(ChainOptions{DMIDir: dmi, Getenv: env.get})) {
		t.Error("ECS source without DMI")
	}
	os.WriteFile(filepath.Join(dmi, "sys_vendor"), []byte("QEMU\n"), 0o600)
	if has(NewChain(ChainOptions{DMIDir: dmi, Getenv: env.get})) {
		t.Error("ECS source on another vendor")
	}
	os.WriteFile(filepath.Join(dmi, "product_name"), []byte("Alibaba Cloud ECS\n"), 0o600)
	if !has(NewChain(ChainOptions{DMIDir: dmi, Getenv: env.get})) {
		t.Error("no ECS source on Alibaba Cloud DMI")
	}
	env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
	if has(NewChain(ChainOptions{DMIDir: dmi, Getenv: env.get})) {
		t.Error("ECS source although disabled")
	}
	env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = ""
	other := t.TempDir()
	if !has(NewChain(ChainOptions{DMIDir: other, ECSMetadata: true, Getenv: env.get})) {
		t.Error("config switch did not enable ECS")
	}
	env["ALIBABA_CLOUD_ECS_METADATA"] = "myrole"
	c := NewChain(ChainOptions{DMIDir: other, Getenv: env.get})
	if !has(c) || c.Identity() != "ecs\x00myrole" {
		t.Errorf("role name: %v %q", c.Sources(), c.Identity())
	}
}

type panicky struct{}

func (panicky) GetCredentials() (*providers.Credentials, error) { panic("nil map") }
func (panicky) GetProviderName() string                         { return "panicky" }

// slow answers only when released: the test releases it when it ends, so no goroutine is left.
type slow struct{ release chan struct{} }

func (s slow) GetCredentials() (*providers.Credentials, error) {
	<-s.release
	return nil, nil
}
func (slow) GetProviderName() string { return "slow" }

func TestCredentialsGoAdapterRecoversAndHonoursDeadline(t *testing.T) {
	t.Parallel()
	get := credentialsGo("test", func() (providers.CredentialsProvider, error) { return panicky{}, nil })
	if _, err := get(context.Background()); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("panic: err = %v", err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	get = credentialsGo("test", func() (providers.CredentialsProvider, error) { return slow{release}, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := get(ctx); err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Errorf("deadline: err = %v", err)
	}
}

// The first source present is the one used: when it fails, the error names it and the later
// sources are never asked (their identity is not the one the cache key names).
func TestChainNeverFallsBack(t *testing.T) {
	t.Parallel()
	var laterCalls int
	c := &Chain{sources: []source{
		{name: "first", identity: "a", fix: "fix first", get: func(context.Context) (Credentials, error) {
			return Credentials{}, fmt.Errorf("boom")
		}},
		{name: "second", identity: "b", get: func(context.Context) (Credentials, error) {
			laterCalls++
			return Credentials{AccessKeyID: "x", AccessKeySecret: "y"}, nil
		}},
	}}
	_, err := c.Credentials(context.Background())
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Source != "first" || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "fix first") {
		t.Fatalf("err = %v", err)
	}
	if laterCalls != 0 || c.Identity() != "a" || c.Describe() != "first" {
		t.Errorf("later source called %d times; identity %q, describe %q", laterCalls, c.Identity(), c.Describe())
	}
}
