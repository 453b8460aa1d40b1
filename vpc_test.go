package main

import (
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The VPC rule (README, Hosts and endpoints, the VPC table), one test per row, with the built
// binary reaching the API under its real names (newInternet routes them to the fake, which records
// the Host of every call). ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED is an STS setting: every Alibaba Cloud
// credentials SDK reads it for STS only, and ACK's pod-identity webhook sets it in every pod, so it
// must not move cr or KMS calls to VPC endpoints, which answer only inside their own region. cr and
// KMS go to their VPC endpoints when the config says so (vpc: true, the entry's or the global one)
// or when the registry host is itself a VPC host.
func TestVPCRuleEnterprise(t *testing.T) {
	const public, vpcHost = "cross-registry.cn-shanghai.cr.aliyuncs.com", "cross-registry-vpc.cn-shanghai.cr.aliyuncs.com"
	entry := func(extra string) string { return hopsEntry(crossID) + extra }
	for _, tt := range []struct {
		name, config, host string
		env                bool // ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true
		cr, sts            string
	}{
		{"nothing said: public endpoints", entry(""), public, false, "cr.cn-shanghai.aliyuncs.com", "sts.cn-shanghai.aliyuncs.com"},
		{"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: STS only", entry(""), public, true, "cr.cn-shanghai.aliyuncs.com", "sts-vpc.cn-shanghai.aliyuncs.com"},
		{"global vpc: true", "vpc: true\n" + entry(""), public, false, "cr-vpc.cn-shanghai.aliyuncs.com", "sts-vpc.cn-shanghai.aliyuncs.com"},
		{"the entry's vpc: true", entry("    vpc: true\n"), public, false, "cr-vpc.cn-shanghai.aliyuncs.com", "sts-vpc.cn-shanghai.aliyuncs.com"},
		{"the entry's vpc: false beats the global vpc: true", "vpc: true\n" + entry("    vpc: false\n"), public, false, "cr.cn-shanghai.aliyuncs.com", "sts.cn-shanghai.aliyuncs.com"},
		{"the entry's vpc: false, the variable still moves STS", entry("    vpc: false\n"), public, true, "cr.cn-shanghai.aliyuncs.com", "sts-vpc.cn-shanghai.aliyuncs.com"},
		{"a -vpc registry host: cr-vpc", entry(""), vpcHost, false, "cr-vpc.cn-shanghai.aliyuncs.com", "sts.cn-shanghai.aliyuncs.com"},
		{"a -vpc registry host, the entry's vpc: false", entry("    vpc: false\n"), vpcHost, false, "cr.cn-shanghai.aliyuncs.com", "sts.cn-shanghai.aliyuncs.com"},
		{"an endpoints.cr override is used as given", "endpoints:\n  cr: cr-vpc.{region}.aliyuncs.com\n" + entry(""), public, false, "cr-vpc.cn-shanghai.aliyuncs.com", "sts.cn-shanghai.aliyuncs.com"},
		{"an override wins over vpc: true", "vpc: true\nendpoints:\n  cr: cr.{region}.aliyuncs.com\n" + entry(""), public, false, "cr.cn-shanghai.aliyuncs.com", "sts-vpc.cn-shanghai.aliyuncs.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.config(tt.config)
			if tt.env {
				e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
			}
			realm := fakecloud.RealmEE
			if tt.host == vpcHost {
				realm = fakecloud.RealmEEVPC
			}
			spec := fakecloud.ChallengeSpec{Realm: realm, Region: "cn-shanghai", Suffix: "china:" + crossID}
			e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{tt.host: spec}.Handler()))
			c, err := e.get(tt.host)
			if err != nil {
				t.Fatalf("%v; stderr: %s", err, lastStderr())
			}
			checkToken(t, e.fc, c, tt.cr, crossID, hop2)
			checkHops(t, e.fc, tt.sts)
		})
	}
}

// Personal Edition GET /tokens stays on the public cr endpoint whatever the VPC settings say and
// whichever host form is asked: nothing shows it served on cr-vpc.
func TestVPCRulePersonal(t *testing.T) {
	for _, tt := range []struct {
		name, config, host string
		env                bool
	}{
		{"global vpc: true", "vpc: true\n", "registry.cn-hangzhou.aliyuncs.com", false},
		{"a -vpc host and the variable", "", "registry-vpc.cn-hangzhou.aliyuncs.com", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.config(tt.config)
			if tt.env {
				e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
			}
			e.useInternet(newInternet(t, e.fc.URL(), fakecloud.Challenges{tt.host: fakecloud.PersonalChallenge("cn-hangzhou")}.Handler()))
			c, err := e.get(tt.host)
			if err != nil {
				t.Fatalf("%v; stderr: %s", err, lastStderr())
			}
			checkToken(t, e.fc, c, "cr.cn-hangzhou.aliyuncs.com", "", ":user/dev")
		})
	}
}

// KMS: kms-vpc.<region> only when the config says vpc (the entry's or the global one); the
// variable leaves it on kms.<region>; an entry's kmsEndpoint is used as given.
func TestVPCRuleKMS(t *testing.T) {
	entry := "registries:\n  - domains: [ghcr.io]\n    secret: ghcr-pull\n    regionId: cn-hangzhou\n"
	for _, tt := range []struct {
		name, config string
		env          bool
		want         string
	}{
		{"nothing said", entry, false, "kms.cn-hangzhou.aliyuncs.com"},
		{"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: STS only", entry, true, "kms.cn-hangzhou.aliyuncs.com"},
		{"global vpc: true", "vpc: true\n" + entry, false, "kms-vpc.cn-hangzhou.aliyuncs.com"},
		{"the entry's vpc: true", entry + "    vpc: true\n", false, "kms-vpc.cn-hangzhou.aliyuncs.com"},
		{"the entry's vpc: false beats the global one", "vpc: true\n" + entry + "    vpc: false\n", false, "kms.cn-hangzhou.aliyuncs.com"},
		{"the entry's kmsEndpoint is used as given", "vpc: true\n" + entry + "    kmsEndpoint: kms.cn-hangzhou.aliyuncs.com\n", false, "kms.cn-hangzhou.aliyuncs.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newSecretsEnv(t)
			e.config(tt.config)
			if tt.env {
				e.vars["ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"] = "true"
			}
			c, err := e.get("ghcr.io")
			if err != nil || c.Secret != ghcrPW {
				t.Fatalf("%+v %v; stderr: %s", c, err, lastStderr())
			}
			calls := e.kmsCalls()
			if len(calls) != 1 || calls[0].Host != tt.want {
				var hosts []string
				for _, c := range calls {
					hosts = append(hosts, c.Host)
				}
				t.Errorf("KMS calls on %s, want one on %s", strings.Join(hosts, ", "), tt.want)
			}
		})
	}
}
