package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/testcluster"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The test world: one real etcd + kube-apiserver for the package (started in TestMain), the deploy
// manifests applied to it, and per test a fake Alibaba Cloud and a controller that impersonates the
// manifests' service account, so every test also proves that the RBAC is enough.
const (
	acctA      = "111111111111"
	acctB      = "222222222222"
	devAK      = "LTAI5tControllerKey01"
	devSK      = "controller-user-secret-01"
	teamID     = "cri-aaaaaaaaaaaaaaaa"
	crossID    = "cri-bbbbbbbbbbbbbbbb"
	ctrlNS     = "kube-system"
	ctrlSA     = "acr-credential-controller"
	secretName = refresh.DefaultSecretName
)

var (
	cluster     *testcluster.Cluster
	clusterSkip string // why the cluster tests skip
	admin       kubernetes.Interface
	// controllerBin is the built binary (TestLeaderElection runs two replicas of it).
	controllerBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := testcluster.BinDir()
	if miss := testcluster.Missing(bin); miss != "" {
		msg := fmt.Sprintf("\n!!! %s is missing: the controller's cluster tests SKIP.\n!!! Build it with `bash controller/hack/build-kube.sh` (from the Go module proxy, cached), or set KUBE_BIN_DIR.\n", miss)
		if os.Getenv("CONTROLLER_NO_SKIP") != "" {
			fmt.Fprint(os.Stderr, msg+"!!! CONTROLLER_NO_SKIP is set: failing.\n")
			return 1
		}
		fmt.Fprint(os.Stderr, msg)
		clusterSkip = miss + " is missing (see hack/build-kube.sh)"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "controller-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := testcluster.Start(ctx, bin, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the test cluster:", err)
		return 1
	}
	defer c.Stop()
	cluster = c
	if controllerBin, err = buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if admin, err = kubernetes.NewForConfig(c.Admin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := applyManifests(ctx, admin, "deploy"); err != nil {
		fmt.Fprintln(os.Stderr, "applying deploy/:", err)
		return 1
	}
	return m.Run()
}

func needCluster(t testing.TB) {
	t.Helper()
	if cluster == nil {
		if os.Getenv("CONTROLLER_NO_SKIP") != "" {
			t.Fatal("no test cluster: " + clusterSkip)
		}
		t.Skip("SKIP (loud): no test cluster: " + clusterSkip)
	}
}

// cleanEnv keeps the machine's credentials, proxies and config away from the code under test and
// never lets it ask a metadata service.
func cleanEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.HasPrefix(k, "DOCKER_CREDENTIAL_ACR_") ||
			strings.HasPrefix(k, "XDG_") || strings.EqualFold(k, "http_proxy") || strings.EqualFold(k, "https_proxy") || strings.EqualFold(k, "no_proxy") || k == "POD_NAME" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

type world struct {
	t       *testing.T
	fc      *fakecloud.Server
	cfgDir  string
	cfgPath string
	gen     int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	needCluster(t)
	cleanEnv(t)
	fc := fakecloud.New()
	must(t, fc.AddUser(fakecloud.User{AccountID: acctA, Name: "ctrl", AccessKeyID: devAK, AccessKeySecret: devSK, RegistryPassword: true}))
	must(t, fc.AddInstance(fakecloud.Instance{AccountID: acctA, ID: teamID, Name: "team", Region: "cn-hangzhou", CustomDomains: []string{"registry.example.com"}}))
	must(t, fc.Start())
	t.Cleanup(fc.Close)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", devAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", devSK)
	w := &world{t: t, fc: fc, cfgDir: t.TempDir()}
	w.cfgPath = filepath.Join(w.cfgDir, "config.yaml")
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// config is the YAML config with the fake's endpoints and the given cluster keys and registries.
func (w *world) config(cluster, registries string) string {
	return fmt.Sprintf("endpoints:\n  cr: http://%s\n  sts: http://%s\n%s\nregistries:\n%s", w.fc.Endpoint(), w.fc.Endpoint(), cluster, registries)
}

const teamEntry = "  - instanceId: " + teamID + "\n    regionId: cn-hangzhou\n    domains: [team-registry.cn-hangzhou.cr.aliyuncs.com, registry.example.com]\n"
const personalEntry = "  - regionId: cn-hangzhou\n"

var teamHosts = []string{"registry.example.com", "team-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "team-registry.cn-hangzhou.cr.aliyuncs.com"}
var personalHostsHZ = []string{"registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl-vpc.cn-hangzhou.aliyuncs.com", "registry-intl.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com", "registry.aliyuncs.com", "registry.cn-hangzhou.aliyuncs.com"}

// writeConfig updates the config as the kubelet updates a mounted ConfigMap: the file is a symlink
// into ..data, itself a symlink to a timestamped directory, and an update swaps ..data atomically.
func (w *world) writeConfig(content string) {
	w.t.Helper()
	w.gen++
	ts := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", w.gen%60, w.gen)
	must(w.t, os.Mkdir(filepath.Join(w.cfgDir, ts), 0o755))
	must(w.t, os.WriteFile(filepath.Join(w.cfgDir, ts, "config.yaml"), []byte(content), 0o644))
	tmp := filepath.Join(w.cfgDir, "..data_tmp")
	must(w.t, os.Symlink(ts, tmp))
	must(w.t, os.Rename(tmp, filepath.Join(w.cfgDir, "..data")))
	if _, err := os.Lstat(w.cfgPath); os.IsNotExist(err) {
		must(w.t, os.Symlink(filepath.Join("..data", "config.yaml"), w.cfgPath))
	}
}

// impersonating is the admin config acting as the controller's service account.
func impersonating() *rest.Config {
	rc := rest.CopyConfig(cluster.Admin)
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ctrlNS + ":" + ctrlSA,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ctrlNS, "system:authenticated"}}
	return rc
}

type replica struct {
	cancel context.CancelFunc
	done   chan error
	addr   string
	// metricsAddr serves /metrics (loopback, apart from the probes).
	metricsAddr string
	logs        *syncBuffer
}

// startController runs the controller in-process (as the binary would, but with an impersonating
// client) until the test ends.
func (w *world) startController(mod func(*options)) *replica {
	w.t.Helper()
	o := defaultOptions()
	o.ConfigPath, o.Namespace, o.HealthAddr, o.MetricsAddr, o.rest = w.cfgPath, ctrlNS, "127.0.0.1:0", "127.0.0.1:0", impersonating()
	o.LeaderElect = false
	if mod != nil {
		mod(&o)
	}
	r := &replica{done: make(chan error, 1), logs: &syncBuffer{}}
	o.log = slog.New(slog.NewTextHandler(io.MultiWriter(r.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr, maddr := make(chan string, 1), make(chan string, 1)
	o.listening = func(a string) { addr <- a }
	o.metricsListening = func(a string) { maddr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- run(ctx, o) }()
	select {
	case r.addr = <-addr:
		select {
		case r.metricsAddr = <-maddr:
		case err := <-r.done:
			cancel()
			w.t.Fatalf("controller did not start: %v", err)
		}
	case err := <-r.done:
		cancel()
		w.t.Fatalf("controller did not start: %v", err)
	}
	w.t.Cleanup(func() {
		r.stop()
		if w.t.Failed() {
			w.t.Logf("controller log:\n%s", r.logs.String())
		}
	})
	return r
}

func (r *replica) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
	}
}

func (r *replica) get(path string) (int, string) {
	addr := r.addr
	if path == "/metrics" {
		addr = r.metricsAddr
	}
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// createNamespaces makes namespaces and, as a kube-controller-manager would, their default
// service account.
func createNamespaces(t testing.TB, names ...string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range names {
		_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		createSA(t, n, "default")
	}
}

func createSA(t testing.TB, ns, name string, pull ...string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, p := range pull {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: p})
	}
	_, err := admin.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, with a generous deadline (the machine is shared and slow).
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

type pullAuth struct {
	Username, Password, Auth, Email string
}

// secretAuths reads the controller's Secret in ns: nil if absent.
func secretAuths(t testing.TB, ns string) (map[string]pullAuth, *corev1.Secret) {
	t.Helper()
	s, err := admin.CoreV1().Secrets(ns).Get(context.Background(), secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	must(t, err)
	var dc struct {
		Auths map[string]pullAuth `json:"auths"`
	}
	must(t, json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc))
	return dc.Auths, s
}

func pullSecrets(t testing.TB, ns, sa string) []string {
	t.Helper()
	obj, err := admin.CoreV1().ServiceAccounts(ns).Get(context.Background(), sa, metav1.GetOptions{})
	must(t, err)
	var out []string
	for _, r := range obj.ImagePullSecrets {
		out = append(out, r.Name)
	}
	return out
}

func tokenCalls(fc *fakecloud.Server) int { return len(fc.IssuedTokens()) }
