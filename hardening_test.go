package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/netns"
)

// 200 helper processes at once, mixing get, store and erase over 10 ACR registries and 10
// logins: no get fails, no entry is corrupt, and each registry costs one token call.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 200 processes")
	}
	e := newEnv(t)
	regions := []string{"cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen", "cn-qingdao", "cn-zhangjiakou", "cn-huhehaote", "cn-chengdu", "ap-southeast-1", "eu-central-1"}
	var wg sync.WaitGroup
	var failed, gets, stores, erases atomic.Int64
	start := make(chan struct{})
	t0 := time.Now()
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			p := e.program()
			switch {
			case i%10 < 8: // get
				host := "registry." + regions[(i/10)%len(regions)] + ".aliyuncs.com"
				c, err := client.Get(p, host)
				if err != nil || c.Username != "cr_temp_user" || c.Secret == "" {
					failed.Add(1)
					t.Errorf("get %s: %v", host, err)
				}
				gets.Add(1)
			case i%10 == 8: // store a login
				host := fmt.Sprintf("crpi-%016d.cn-hangzhou.personal.cr.aliyuncs.com", i%10)
				if err := client.Store(p, &credentials.Credentials{ServerURL: host, Username: "u", Secret: fmt.Sprint("pw-", i)}); err != nil {
					failed.Add(1)
					t.Errorf("store: %v", err)
				}
				stores.Add(1)
			default: // erase a login
				host := fmt.Sprintf("crpi-%016d.cn-hangzhou.personal.cr.aliyuncs.com", (i-1)%10)
				if err := client.Erase(p, host); err != nil {
					failed.Add(1)
					t.Errorf("erase: %v", err)
				}
				erases.Add(1)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	took := time.Since(t0)
	if n := e.fc.Count("GetAuthorizationToken"); n != len(regions) {
		t.Errorf("token calls %d, want %d (one per registry)", n, len(regions))
	}
	st, err := cache.Open(filepath.Join(e.home, "cache", "docker-credential-acr"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.List()
	if err != nil || len(entries) != len(regions) {
		t.Errorf("cache entries %d (%v), want %d", len(entries), err, len(regions))
	}
	t.Logf("200 processes (%d get, %d store, %d erase) in %v, %d failed, %d token calls", gets.Load(), stores.Load(), erases.Load(), took.Round(time.Millisecond), failed.Load(), e.fc.Count("GetAuthorizationToken"))
}

// Known secrets go through every command and error path at the most verbose level: none of
// them appears on stderr, in an error, or in any file but the cache entries and the login store.
func TestSecretsNeverLeak(t *testing.T) {
	e := newEnv(t)
	stsCreds, err := e.fc.IssueSTS(world.Role("role-assume").ARN(), "leaktest", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "debug"
	e.vars["DEBUG"] = "tea,dara,credential,sdk"
	e.config(customAndCrossConfig)
	const storedPW = "stored-login-password-0001"
	secrets := []string{sk, stsCreds.AccessKeySecret, stsCreds.SecurityToken, storedPW}
	type step struct {
		name  string
		args  []string
		stdin string
		vars  map[string]string
	}
	steps := []step{
		{"get personal", []string{"get"}, "registry.cn-hangzhou.aliyuncs.com", nil},
		{"get custom", []string{"get"}, "registry.example.com", nil},
		{"get cross-account", []string{"get"}, "cross.example.com", nil},
		{"get with STS env creds", []string{"get"}, "registry.cn-beijing.aliyuncs.com", map[string]string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID": stsCreds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": stsCreds.AccessKeySecret, "ALIBABA_CLOUD_SECURITY_TOKEN": stsCreds.SecurityToken}},
		{"get with a wrong STS token", []string{"get"}, "registry.cn-shanghai.aliyuncs.com", map[string]string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID": stsCreds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": stsCreds.AccessKeySecret, "ALIBABA_CLOUD_SECURITY_TOKEN": stsCreds.SecurityToken + "x"}},
		{"get with a wrong secret, strict", []string{"get"}, "registry.cn-shenzhen.aliyuncs.com", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": sk + "x", "DOCKER_CREDENTIAL_ACR_STRICT": "1"}},
		{"get unreachable API", []string{"get"}, "registry.cn-qingdao.aliyuncs.com", map[string]string{"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT": "http://127.0.0.1:1", "DOCKER_CREDENTIAL_ACR_TIMEOUT": "2s"}},
		{"store", []string{"store"}, `{"ServerURL":"crpi-aaaaaaaaaaaaaaaa.cn-hangzhou.personal.cr.aliyuncs.com","Username":"me","Secret":"` + storedPW + `"}`, nil},
		{"store bad JSON", []string{"store"}, `{"ServerURL":"x","Secret":"` + storedPW, nil},
		{"get stored", []string{"get"}, "crpi-aaaaaaaaaaaaaaaa.cn-hangzhou.personal.cr.aliyuncs.com", nil},
		{"list", []string{"list"}, "", nil},
		{"doctor online json", []string{"doctor", "--online", "--json", "registry.cn-hangzhou.aliyuncs.com", "cross.example.com", "crpi-aaaaaaaaaaaaaaaa.cn-hangzhou.personal.cr.aliyuncs.com"}, "", nil},
		{"doctor online failing", []string{"doctor", "--online", "registry.cn-shenzhen.aliyuncs.com"}, "", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": sk + "x"}},
		{"erase", []string{"erase"}, "crpi-aaaaaaaaaaaaaaaa.cn-hangzhou.personal.cr.aliyuncs.com", nil},
		{"version", []string{"version"}, "", nil},
		{"unknown command", []string{"frobnicate"}, "", nil},
	}
	var tokens []string
	for _, s := range steps {
		cmd := exec.Command(helperBin, s.args...)
		env := map[string]string{}
		for k, v := range e.vars {
			env[k] = v
		}
		for k, v := range s.vars {
			env[k] = v
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdin = strings.NewReader(s.stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		for _, tok := range e.fc.IssuedTokens() {
			tokens = append(tokens, tok.Token)
		}
		all := append(append([]string{}, secrets...), tokens...)
		for _, sec := range all {
			if strings.Contains(stderr.String(), sec) {
				t.Errorf("%s: stderr holds a secret %.6s…: %s", s.name, sec, stderr.String())
			}
			isAnswer := s.args[0] == "get" && strings.Contains(stdout.String(), `"Secret":"`+sec+`"`)
			if strings.Contains(stdout.String(), sec) && !isAnswer {
				t.Errorf("%s: stdout holds a secret outside the answer: %s", s.name, stdout.String())
			}
		}
	}
	// Files: secrets only in the cache entries and the login store, which are private.
	allowed := map[string]bool{
		filepath.Join(e.home, "cache", "docker-credential-acr"): true,
		filepath.Join(e.home, "data", "docker-credential-acr"):  true,
	}
	filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, sec := range append(secrets, tokens...) {
			if !bytes.Contains(b, []byte(sec)) {
				continue
			}
			fi, _ := os.Stat(path)
			di, _ := os.Stat(filepath.Dir(path))
			isAK := sec == sk || sec == stsCreds.AccessKeySecret || sec == stsCreds.SecurityToken
			if isAK || !allowed[filepath.Dir(path)] || fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
				t.Errorf("%s (%v) holds a secret %.6s…", path, fi.Mode(), sec)
			}
		}
		return nil
	})
	if len(tokens) == 0 {
		t.Error("no token was issued: the test proved nothing")
	}
}

// A metadata service that answers garbage: a clear not-found (or strict error), never a panic.
func TestMetadataGarbage(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, f := range []struct {
		name  string
		fault fakecloud.Fault
	}{
		{"malformed JSON", fakecloud.FaultMalformedJSON()},
		{"missing Code and Expiration", fakecloud.FaultMissingFields("Code", "Expiration")},
		{"missing AccessKeyId", fakecloud.FaultMissingFields("AccessKeyId")},
		{"500", fakecloud.FaultStatus(500)},
	} {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t)
			if err := e.fc.SetECSRole(world.Role("ecs-node").ARN()); err != nil {
				t.Fatal(err)
			}
			e.fc.InjectPersistent(fakecloud.MetadataCredentials, f.fault)
			delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
			delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			delete(e.vars, "ALIBABA_CLOUD_ECS_METADATA_DISABLED")
			e.vars["ALIBABA_CLOUD_ECS_METADATA"] = "ecs-node"
			e.metadataOnRealAddress()
			e.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "1"
			r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
			if r.code != 1 || !strings.Contains(r.stdout, "ECS RAM role") || strings.Contains(r.stderr, "panic") {
				t.Fatalf("%+v", r)
			}
			if e.fc.Count("GetAuthorizationToken") != 0 {
				t.Error("token call without credentials")
			}
			t.Logf("%s: %v: %s", f.name, r.took.Round(time.Millisecond), strings.TrimSpace(r.stdout))
		})
	}
}

// A broken, huge or hostile config file: a clear error naming the file, exit 1, no API call.
func TestHostileConfig(t *testing.T) {
	names, bodies := testkit.HostileConfigs() // testdata/hostile/config
	names = append(names, "huge")
	bodies["huge"] = []byte("# " + strings.Repeat("x", 2<<20))
	for _, name := range names {
		body := string(bodies[name])
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.config(body)
			r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
			if r.code != 1 || !strings.Contains(r.stdout, "config file") || strings.Contains(r.stderr, "panic") {
				t.Errorf("exit %d, stdout %.200q, stderr %.200q", r.code, r.stdout, r.stderr)
			}
			if len(e.fc.Calls()) != 0 {
				t.Error("API call with a broken config")
			}
		})
	}
}
