package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// addonData is the ACK add-on's ConfigMap kube-system/acr-configuration as the ACK docs show it
// (every key), with an Enterprise entry without domains, a Personal Edition entry written with
// instanceId "" and an entry with neither instanceId nor regionId.
var addonData = map[string]string{
	"watch-namespace":    "team-a,team-b",
	"service-account":    "Default,builder",
	"expiring-threshold": "15m",
	"notify-email":       "ops@example.com",
	"acr-api-version":    "2018-12-01",
	"acr-registry-info": `- instanceId: "cri-aaaaaaaaaaaaaaaa"
  regionId: "cn-hangzhou"
  domains: ""
  assumeRoleARN: ""
  expireDuration: 3600
  rrsaRoleARN: ""
  rrsaOIDCProviderRoleARN: ""
- instanceId: ""
  regionId: "cn-beijing"
- instanceId: "cri-bbbbbbbbbbbbbbbb"
  domains: "b-registry.cn-shanghai.cr.aliyuncs.com,registry.example.com"
`,
	"webhook-configuration": "enable: true\nfailure-policy: Fail\ntimeout-seconds: 5\n",
	"rrsa":                  "enable: true\n",
}

func TestLoadMapAddonKeys(t *testing.T) {
	c, err := LoadMap("ConfigMap kube-system/acr-configuration", addonData, env(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cluster.Namespaces(); !reflect.DeepEqual(got, []string{"team-a", "team-b"}) {
		t.Errorf("namespaces %v", got)
	}
	if got := c.Cluster.Accounts(); !reflect.DeepEqual(got, []string{"default", "builder"}) {
		t.Errorf("service accounts %v (Default names the default service account)", got)
	}
	if c.ExpiringThreshold.String() != "15m0s" || c.Cluster.NotifyEmail != "ops@example.com" || c.Cluster.APIVersion != AddonAPIVersion {
		t.Errorf("threshold %v email %q api %q", c.ExpiringThreshold, c.Cluster.NotifyEmail, c.Cluster.APIVersion)
	}
	if w := c.Cluster.WebhookSettings(); w != (Webhook{Enable: true, FailurePolicy: "Fail", TimeoutSeconds: 5}) {
		t.Errorf("webhook %+v", w)
	}
	if !c.Cluster.RRSA || !c.Cluster.RegistryInfo {
		t.Errorf("rrsa %v registryInfo %v", c.Cluster.RRSA, c.Cluster.RegistryInfo)
	}
	if len(c.Registries) != 3 {
		t.Fatalf("%d entries", len(c.Registries))
	}
	r0, r1, r2 := c.Registries[0], c.Registries[1], c.Registries[2]
	if r0.InstanceID != "cri-aaaaaaaaaaaaaaaa" || r0.RegionID != "cn-hangzhou" || len(r0.Domains) != 0 || r0.ExpireDuration != 3600 || r0.ArnUser != "" {
		t.Errorf("entry 0: %+v", r0)
	}
	if r1.PersonalRegion() != "cn-beijing" {
		t.Errorf("entry 1 is not the Personal Edition of cn-beijing: %+v", r1)
	}
	if r2.RegionID != "" || !reflect.DeepEqual(r2.Domains, []string{"b-registry.cn-shanghai.cr.aliyuncs.com", "registry.example.com"}) {
		t.Errorf("entry 2: %+v", r2)
	}
}

// The same keys and values in the helper's own file: dashed keys, the add-on's YAML strings, or
// plain YAML.
func TestAddonKeysInFile(t *testing.T) {
	const asStrings = `watch-namespace: all
service-account: "*"
acr-registry-info: |
  - instanceId: ""
    regionId: cn-hangzhou
webhook-configuration: |
  enable: true
rrsa: |
  enable: false
`
	const asYAML = `watchNamespace: all
serviceAccount: "*"
acrRegistryInfo:
  - instanceId: ""
    regionId: cn-hangzhou
webhookConfiguration: {enable: true}
rrsa: {enable: false}
`
	var got []*Config
	for _, y := range []string{asStrings, asYAML} {
		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadFile(p, env(t))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	for i, c := range got {
		if len(c.Registries) != 1 || c.Registries[0].PersonalRegion() != "cn-hangzhou" || !c.Cluster.Webhook.Enable || c.Cluster.RRSA ||
			!reflect.DeepEqual(c.Cluster.Namespaces(), []string{"all"}) || !reflect.DeepEqual(c.Cluster.Accounts(), []string{"*"}) {
			t.Errorf("form %d: %+v", i, c)
		}
	}
}

func TestAddonKeyErrors(t *testing.T) {
	const secretValue = "s3cr3t-value-never-shown"
	tests := []struct {
		name string
		data map[string]string
		err  string
		warn string
	}{
		{name: "unknown key", data: map[string]string{"watch-namespaces-typo": "a"}, err: "unknown key: the keys here are"},
		{name: "api version", data: map[string]string{"acr-api-version": "2016-06-07"}, err: `knows only "2018-12-01"`},
		{name: "registry info not yaml", data: map[string]string{"acr-registry-info": "- instanceId: [\n"}, err: "holds no valid YAML"},
		{name: "registry info not a list", data: map[string]string{"acr-registry-info": "instanceId: cri-aaaaaaaaaaaaaaaa\n"}, err: "must be a list of entries"},
		{name: "unknown entry key", data: map[string]string{"acr-registry-info": "- instanceID: ''\n  region: cn-hangzhou\n"}, err: "acr-registry-info[0].region: unknown key"},
		{name: "failure policy", data: map[string]string{"webhook-configuration": "failure-policy: Maybe\n"}, err: "write Ignore"},
		{name: "timeout", data: map[string]string{"webhook-configuration": "timeout-seconds: 60\n"}, err: "from 1 to 30"},
		{name: "rrsa key", data: map[string]string{"rrsa": "enabled: maybe\n"}, err: "must be true or false"},
		{name: "managed role", data: map[string]string{"acr-registry-info": "- instanceId: ''\n  regionId: cn-hangzhou\n  assumeRoleARN: acs:ram::1234:role/AliyunCSManagedAcrRole\n"}, err: "ACK's control plane only"},
		{name: "managed role key", data: map[string]string{"managedRole": "true"}, err: "ACK's control plane only"},
		{name: "half an access key", data: map[string]string{"acr-registry-info": "- regionId: cn-hangzhou\n  customAccessKeySecret: " + secretValue + "\n"}, err: "go together"},
		{name: "access key warns", data: map[string]string{"acr-registry-info": "- regionId: cn-hangzhou\n  customAccessKey: LTAI5tExample\n  customAccessKeySecret: " + secretValue + "\n"}, warn: "prefer RRSA"},
		{name: "empty registry info", data: map[string]string{"acr-registry-info": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadMap("ConfigMap kube-system/acr-configuration", tt.data, env(t))
			if err != nil && strings.Contains(err.Error(), secretValue) {
				t.Fatalf("the error shows the secret: %v", err)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warns := strings.Join(c.Warnings, "\n")
			if strings.Contains(warns, secretValue) {
				t.Fatal("a warning shows the secret")
			}
			if tt.warn != "" && !strings.Contains(warns, tt.warn) {
				t.Errorf("warnings %q, want %q", warns, tt.warn)
			}
			if tt.warn == "" && strings.Contains(warns, "customAccessKey") {
				t.Errorf("unexpected warning %q", warns)
			}
		})
	}
}
