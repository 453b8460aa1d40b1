package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// buildBinary builds acr-credential-controller as the README says. TestMain calls it before any
// test changes HOME (the Go build cache lives there).
func buildBinary(dir string) (string, error) {
	out := filepath.Join(dir, "acr-credential-controller")
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

// kubeconfig writes a kubeconfig for the admin certificate acting as the controller's service account.
func kubeconfig(t *testing.T) string {
	t.Helper()
	rc := impersonating()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	cfg.AuthInfos["ctrl"] = &clientcmdapi.AuthInfo{ClientCertificateData: rc.CertData, ClientKeyData: rc.KeyData,
		Impersonate: rc.Impersonate.UserName, ImpersonateGroups: rc.Impersonate.Groups}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "ctrl"}
	cfg.CurrentContext = "test"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, p))
	return p
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
}

func (w *world) startProcess(t *testing.T, bin, kc, pod string) *proc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	p := &proc{addr: addr, out: &syncBuffer{}}
	p.cmd = exec.Command(bin, "--kubeconfig="+kc, "--config="+w.cfgPath, "--namespace="+ctrlNS, "--health-addr="+addr, "--metrics-addr=127.0.0.1:0",
		"--lease-name=acr-credential-controller", "--lease-duration=4s", "--renew-deadline=3s", "--retry-period=1s")
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "POD_NAME=" + pod,
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + devAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + devSK, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	must(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = p.cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", pod, p.out.String())
		}
	})
	return p
}

func (p *proc) get(path string) (int, string) {
	r := &replica{addr: p.addr}
	return r.get(path)
}

func leaseHolder(t *testing.T) string {
	l, err := admin.CoordinationV1().Leases(ctrlNS).Get(context.Background(), "acr-credential-controller", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	must(t, err)
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// Two replicas of the built binary, one writer: the follower answers /healthz and makes no token
// call; when the leader is killed (SIGKILL, no release) the Lease moves and the new leader
// refreshes while the Secret keeps a valid login throughout.
func TestLeaderElection(t *testing.T) {
	w := newWorld(t)
	bin := controllerBin
	kc := kubeconfig(t)
	createNamespaces(t, "le-a")
	w.writeConfig(w.config("watchNamespace: le-a", teamEntry))
	p1 := w.startProcess(t, bin, kc, "replica-1")
	waitFor(t, "replica-1 to lead and write", func() (bool, string) {
		a, _ := secretAuths(t, "le-a")
		return leaseHolder(t) == "replica-1" && len(a) == 3, leaseHolder(t)
	})
	p2 := w.startProcess(t, bin, kc, "replica-2")
	waitFor(t, "replica-2 to follow", func() (bool, string) {
		code, body := p2.get("/readyz")
		return code == 200 && strings.Contains(body, "following"), fmt.Sprint(code, body)
	})
	if code, _ := p2.get("/healthz"); code != 200 {
		t.Errorf("follower /healthz %d", code)
	}
	if n := tokenCalls(w.fc); n != 1 {
		t.Errorf("%d token calls with a leader and a follower, want 1", n)
	}

	// Watch the Secret through the handover.
	stop := make(chan struct{})
	var gaps []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			a, _ := secretAuths(t, "le-a")
			if a[teamHosts[0]].Password == "" {
				mu.Lock()
				gaps = append(gaps, time.Now().Format(time.RFC3339Nano))
				mu.Unlock()
			}
		}
	}()
	killedAt := time.Now()
	must(t, p1.cmd.Process.Kill())
	_ = p1.cmd.Wait()
	waitFor(t, "the Lease to move to replica-2", func() (bool, string) { return leaseHolder(t) == "replica-2", leaseHolder(t) })
	moved := time.Since(killedAt)
	waitFor(t, "the new leader's refresh", func() (bool, string) {
		toks := w.fc.IssuedTokens()
		a, _ := secretAuths(t, "le-a")
		return len(toks) == 2 && a[teamHosts[0]].Password == toks[1].Token, fmt.Sprint(len(toks))
	})
	close(stop)
	wg.Wait()
	t.Logf("the Lease moved %.1fs after the leader was killed (lease duration 4s)", moved.Seconds())
	if len(gaps) > 0 {
		t.Errorf("the Secret had no login at %v", gaps)
	}
}
