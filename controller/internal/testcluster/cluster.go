// Package testcluster starts a real etcd and kube-apiserver on loopback for the controller's tests,
// from binaries built by controller/hack/build-kube.sh (from the Go module proxy, cached by version).
// There is no kube-controller-manager: namespaces are never finalized and no default service
// accounts appear, so tests create what they need.
package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Versions the binaries are built at (keep in step with hack/build-kube.sh).
const (
	KubeVersion = "v1.37.2"
	EtcdVersion = "v3.7.3"
)

// BinDir is where build-kube.sh caches the binaries: $KUBE_BIN_DIR, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/docker-credential-acr-ci/kube-<v>-etcd-<v>.
func BinDir() string {
	if d := os.Getenv("KUBE_BIN_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "docker-credential-acr-ci", "kube-"+KubeVersion+"-etcd-"+EtcdVersion)
}

// Missing says which binary is absent from dir, or "".
func Missing(dir string) string {
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
			return filepath.Join(dir, b)
		}
	}
	return ""
}

// Cluster is a running etcd + kube-apiserver.
type Cluster struct {
	Admin    *rest.Config // system:masters
	URL      string
	CAPEM    []byte
	dir      string
	procs    []*exec.Cmd
	logs     []*lockedWriter
	exited   []chan struct{}
	stopOnce sync.Once
}

// Start starts etcd and the API server with binaries from binDir, keeping their data and logs in
// dir, and returns once /readyz answers.
func Start(ctx context.Context, binDir, dir string) (*Cluster, error) {
	c := &Cluster{dir: dir}
	p, err := newPKI(dir)
	if err != nil {
		return nil, err
	}
	c.CAPEM = p.caPEM
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	client, peer, secure := ports[0], ports[1], ports[2]
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	if err := c.start(filepath.Join(binDir, "etcd"),
		"--name=test", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL, "--unsafe-no-fsync", "--log-level=warn"); err != nil {
		return nil, err
	}
	if err := c.start(filepath.Join(binDir, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(secure),
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file="+p.serverCert, "--tls-private-key-file="+p.serverKey, "--client-ca-file="+p.caFile,
		"--authorization-mode=RBAC",
		// As kubeadm, k3s and RKE2 start it: node agents (the Helm chart's installer DaemonSet) are privileged.
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p.saPub, "--service-account-signing-key-file="+p.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none", // the kubernetes Service's endpoints would be a loopback address, which is invalid
		"--profiling=false", "--v=0"); err != nil {
		c.Stop()
		return nil, err
	}
	c.URL = "https://127.0.0.1:" + strconv.Itoa(secure)
	c.Admin = &rest.Config{Host: c.URL, TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM, CertData: p.adminCertPEM, KeyData: p.adminKeyPEM},
		QPS: 500, Burst: 1000}
	if err := c.waitReady(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	lw := &lockedWriter{w: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = lw, lw
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + c.dir} // no proxies, no credentials
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	c.procs = append(c.procs, cmd)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c.exited = append(c.exited, exited)
	c.logs = append(c.logs, lw)
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last error
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			// The system namespaces and the bootstrap RBAC come with readiness; kube-system is needed.
			if _, err = cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err == nil {
				return nil
			}
		}
		last = err
		for i, ex := range c.exited {
			select {
			case <-ex:
				return fmt.Errorf("%s exited: %s", c.procs[i].Path, c.Logs())
			default:
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the API server did not become ready (%v); logs:\n%s", last, c.Logs())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Logs returns the tail of etcd's and the API server's output.
func (c *Cluster) Logs() string {
	var out []byte
	for i, lw := range c.logs {
		lw.mu.Lock()
		data := lw.w.Bytes()
		if len(data) > 8000 {
			data = data[len(data)-8000:]
		}
		out = append(out, fmt.Sprintf("--- %s\n", filepath.Base(c.procs[i].Path))...)
		out = append(out, data...)
		lw.mu.Unlock()
	}
	return string(out)
}

// Stop kills the API server, then etcd.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			p := c.procs[i]
			_ = p.Process.Signal(os.Interrupt)
			select {
			case <-c.exited[i]:
			case <-time.After(10 * time.Second):
				_ = p.Process.Kill()
				<-c.exited[i]
			}
		}
	})
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
