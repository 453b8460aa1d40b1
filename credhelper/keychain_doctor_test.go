package credhelper

// Doctor tests that drive the keychain's planning (they moved out of the keychain's tests with it).

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// Offline doctor asks no API to choose the entry: it says how to find out.
func TestInstanceEntryOfflineDoctor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	k := w.keychain(t, config.Registry{InstanceID: crossID, ArnService: roleSvc, ArnUser: roleUser})
	r := diagnose(k, ctx(t), "cross-registry.cn-shanghai.cr.aliyuncs.com", false)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "cannot tell offline") || !strings.Contains(r.Problems[0], "doctor --online") {
		t.Fatalf("problems %q", r.Problems)
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("offline doctor made %d API calls", n)
	}
	r = diagnose(k, ctx(t), "cross-registry.cn-shanghai.cr.aliyuncs.com", true)
	if len(r.Problems) != 0 || r.Instance != crossID || r.Entry != "registries[0] ("+crossID+")" {
		t.Fatalf("online: %+v", r)
	}
}

// Doctor says the region the token is asked in, by the keychain's rule: a host that names its
// region keeps it, whatever a catch-all entry's regionId says.
func TestDoctorHostThatNamesItsRegionKeepsIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	k := w.keychain(t, config.Registry{RegionID: "cn-beijing"})
	reg, _ := acr.Parse("registry.cn-hangzhou.aliyuncs.com")
	p, err := k.Plan(ctx(t), reg)
	if err != nil || p.Region != "cn-hangzhou" {
		t.Fatalf("plan region %v, %v", p, err)
	}
	var out, errb bytes.Buffer
	Doctor(ctx(t), k, []string{"--json", "registry.cn-hangzhou.aliyuncs.com"}, &out, &errb)
	var reports []doctorReport
	if err := json.Unmarshal(out.Bytes(), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("doctor: %v %s", err, out.String())
	}
	r := reports[0]
	if r.Region != p.Region {
		t.Errorf("doctor says region %s, the plan %s", r.Region, p.Region)
	}
	for _, h := range r.How {
		if strings.Contains(h, "region cn-beijing") {
			t.Errorf("doctor claims region cn-beijing: %q", h)
		}
	}
}

// Per-workload identity reads secrets too: the pod's service account role, not the node, reads
// the Docker Hub login, and another service account's role is refused.
func TestKubeletWorkloadReadsTheSecret(t *testing.T) {
	w := newKubeletWorld(t)
	if err := w.fc.AddSecret(fakecloud.Secret{AccountID: kAccount, Region: "cn-hangzhou", Name: "hub", Readers: []string{w.roleA},
		Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: `{"username": "hub-a", "password": "hub-a-password-0001"}`}}}); err != nil {
		t.Fatal(err)
	}
	ref, _ := secrets.ParseRef("hub", "cn-hangzhou")
	w.k.Config.Endpoints.KMS = w.fc.URL()
	w.k.Config.Registries = []config.Registry{{Domains: []string{"docker.io"}, RegionID: "cn-hangzhou", RoleSessionName: config.DefaultRoleSessionName, ExpireDuration: 3600,
		Secret: &config.Secret{Ref: ref, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}}}
	annA := map[string]string{kubeletapi.AnnotationRoleARN: w.roleA}
	r, err := w.run(t, saRequest("docker.io/library/nginx:1", w.tokenA, annA))
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Auth["docker.io"]; a.Username != "hub-a" || a.Password != "hub-a-password-0001" || r.CacheDuration == "0s" {
		t.Fatalf("answer %+v", r)
	}
	var reads []fakecloud.Call
	for _, c := range w.fc.Calls() {
		if c.Action == "GetSecretValue" {
			reads = append(reads, c)
		}
	}
	if len(reads) != 1 || !strings.HasPrefix(reads[0].Principal, "acs:ram::"+kAccount+":assumed-role/puller-a/") {
		t.Errorf("GetSecretValue calls %+v, want one by the puller-a session", reads)
	}
	// Another service account's role may not read it: an error, never the node's or A's login.
	_, err = w.run(t, saRequest("nginx", w.tokenB, map[string]string{kubeletapi.AnnotationRoleARN: w.roleB}))
	if secrets.KindOf(err) != secrets.NoPermission || !strings.Contains(err.Error(), "puller-b") {
		t.Errorf("service account B: %v", err)
	}
	if strings.Contains(w.log.String(), "hub-a-password-0001") {
		t.Error("the password reached the log")
	}
}
