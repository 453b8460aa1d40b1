package sts

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
)

// cleanEnv clears everything the chain reads, so that the machine's own credentials never leak in.
func cleanEnv(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.Contains(strings.ToLower(k), "proxy") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

func noDMI(t *testing.T) string { return t.TempDir() }

func TestChainSourcesAndIdentity(t *testing.T) {
	home := cleanEnv(t)
	dmi := noDMI(t)
	c := NewChain(ChainOptions{DMIDir: dmi})
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
	c = NewChain(ChainOptions{DMIDir: dmi})
	cliID := c.Identity()
	if !strings.HasPrefix(cliID, "cli\x00") || !strings.Contains(c.Describe(), `"dev"`) {
		t.Fatalf("identity %q, describe %q", cliID, c.Describe())
	}
	cr, err := c.Credentials(context.Background())
	if err != nil || cr.AccessKeyID != "LTAIdev" || cr.AccessKeySecret != "s3cret" {
		t.Fatalf("CLI profile: %v %v", cr, err)
	}
	writeCLI("LTAIother")
	if NewChain(ChainOptions{DMIDir: dmi}).Identity() == cliID {
		t.Error("editing the profile did not change the identity")
	}
	t.Setenv("ALIBABA_CLOUD_PROFILE", "prod")
	if id := NewChain(ChainOptions{DMIDir: dmi}).Identity(); id == cliID || !strings.Contains(id, "prod") {
		t.Errorf("switching profile: identity %q", id)
	}

	// Environment AccessKey comes first.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv1")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret")
	c = NewChain(ChainOptions{DMIDir: dmi})
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
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv2")
	if NewChain(ChainOptions{DMIDir: dmi}).Identity() == "env\x00LTAIenv1" {
		t.Error("another AccessKey id has the same identity")
	}
}

func TestECSOnlyWhereItCanExist(t *testing.T) {
	cleanEnv(t)
	dmi := t.TempDir()
	has := func(c *Chain) bool {
		for _, s := range c.Sources() {
			if strings.HasPrefix(s, "ECS RAM role") {
				return true
			}
		}
		return false
	}
	if has(NewChain(ChainOptions{DMIDir: dmi})) {
		t.Error("ECS source without DMI")
	}
	os.WriteFile(filepath.Join(dmi, "sys_vendor"), []byte("QEMU\n"), 0o600)
	if has(NewChain(ChainOptions{DMIDir: dmi})) {
		t.Error("ECS source on another vendor")
	}
	os.WriteFile(filepath.Join(dmi, "product_name"), []byte("Alibaba Cloud ECS\n"), 0o600)
	if !has(NewChain(ChainOptions{DMIDir: dmi})) {
		t.Error("no ECS source on Alibaba Cloud DMI")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	if has(NewChain(ChainOptions{DMIDir: dmi})) {
		t.Error("ECS source although disabled")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "")
	other := t.TempDir()
	if !has(NewChain(ChainOptions{DMIDir: other, ECSMetadata: true})) {
		t.Error("config switch did not enable ECS")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA", "myrole")
	c := NewChain(ChainOptions{DMIDir: other})
	if !has(c) || c.Identity() != "ecs\x00myrole" {
		t.Errorf("role name: %v %q", c.Sources(), c.Identity())
	}
}

type panicky struct{}

func (panicky) GetCredentials() (*providers.Credentials, error) { panic("nil map") }
func (panicky) GetProviderName() string                         { return "panicky" }

// slow blocks until released, so that no goroutine outlives the test that made it.
type slow struct{ release chan struct{} }

func (s slow) GetCredentials() (*providers.Credentials, error) {
	<-s.release
	return nil, nil
}
func (slow) GetProviderName() string { return "slow" }

func TestCredentialsGoAdapterRecoversAndHonoursDeadline(t *testing.T) {
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
