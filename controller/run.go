package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

// options are the flags.
type options struct {
	Kubeconfig string
	ConfigPath string
	// AddonConfigMap, NAMESPACE/NAME, reads the ACK add-on's ConfigMap through the API instead
	// of ConfigPath.
	AddonConfigMap string
	// Webhook serves the mutating admission webhook whatever the config's webhook-configuration
	// says (which can enable it too).
	Webhook                  bool
	WebhookAddr              string
	WebhookService           string // the Service in Namespace the API server calls
	WebhookConfigurationName string
	WebhookCertSecret        string
	// NamespacedRBAC watches service accounts and Secrets per watched namespace (a list), so that
	// the RBAC can be per namespace (deploy/namespaced/).
	NamespacedRBAC bool
	// AdoptAddonSecrets refreshes the add-on's acr-credential-<32 hex> Secrets in place.
	AdoptAddonSecrets bool
	// Region is the cluster's region, for entries that name none (else the ECS metadata's).
	Region      string
	Namespace   string
	LeaderElect bool
	HealthAddr  string
	// MetricsAddr serves /metrics: loopback by default, so that the metrics are not open to
	// everyone who reaches the pod; set it to :8081 (behind a NetworkPolicy) to scrape them.
	MetricsAddr string
	SecretName  string
	LeaseName   string
	QPS         float64
	Burst       int
	Workers     int
	Lease       refresh.LeaderOptions
	Debug       bool

	// rest replaces --kubeconfig (tests: an impersonating config).
	rest *rest.Config
	// listening, if set, receives the health server's address (tests use port 0), and
	// metricsListening the metrics server's.
	listening        func(addr string)
	metricsListening func(addr string)
	// log replaces the stderr logger (tests).
	log *slog.Logger
	// metadata replaces the ECS metadata service's address (tests: the fake's).
	metadata string
	// webhookURL replaces the Service in the webhook configuration, and webhookListening receives
	// the webhook's address (tests: the API server calls https://127.0.0.1:port).
	webhookURL       func(addr string) string
	webhookListening func(addr string)
}

const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func defaultOptions() options {
	ns := "kube-system"
	if b, err := os.ReadFile(inClusterNamespace); err == nil && strings.TrimSpace(string(b)) != "" {
		ns = strings.TrimSpace(string(b))
	}
	return options{
		ConfigPath: "/etc/acr-credential-controller/config.yaml", Namespace: ns, LeaderElect: true,
		HealthAddr: ":8080", MetricsAddr: "127.0.0.1:8081", SecretName: refresh.DefaultSecretName, LeaseName: "acr-credential-controller",
		QPS: 200, Burst: 400, Workers: refresh.DefaultWorkers,
		WebhookAddr: ":9443", WebhookService: "acr-credential-controller-webhook",
		WebhookConfigurationName: "acr-credential-controller", WebhookCertSecret: "acr-credential-controller-webhook-tls",
	}
}

// identity is the Lease holder: the pod name from the downward API, else the hostname.
func identity() string {
	if n := os.Getenv("POD_NAME"); n != "" {
		return n
	}
	h, _ := os.Hostname()
	return h
}

func run(ctx context.Context, o options) error {
	log := o.log
	if log == nil {
		lvl := slog.LevelInfo
		if o.Debug {
			lvl = slog.LevelDebug
		}
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	}
	if o.Region != "" && !acr.ValidRegion(o.Region) {
		return fmt.Errorf("--region %q is not a region id such as cn-hangzhou", o.Region)
	}
	rc := o.rest
	if rc == nil {
		var err error
		if rc, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig); err != nil {
			return fmt.Errorf("kubeconfig: %w (in a pod, leave --kubeconfig empty)", err)
		}
	}
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = float32(o.QPS), o.Burst
	rc.UserAgent = "acr-credential-controller"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	var src source = fileSource{o.ConfigPath}
	if o.AddonConfigMap != "" {
		ns, name, err := parseConfigMapRef(o.AddonConfigMap)
		if err != nil {
			return err
		}
		src = configMapSource{client: client, namespace: ns, name: name}
	}
	env := settingsEnv{region: &clusterRegion{flag: o.Region, base: o.metadata}, addon: src.addon(), warned: map[string]bool{}}
	settings, err := loadSettings(ctx, src, env, log)
	if err != nil {
		return err
	}

	m := refresh.NewMetrics()
	ctrl := refresh.New(client, settings)
	ctrl.SecretName, ctrl.Workers, ctrl.Log, ctrl.Metrics = o.SecretName, o.Workers, log, m
	ctrl.Adopt, ctrl.Namespaced = o.AdoptAddonSecrets, o.NamespacedRBAC
	var wh *webhookServer
	if o.Webhook || settings.Webhook.Enable {
		if wh, err = startWebhook(ctx, o, client, ctrl, settings.Webhook, log); err != nil {
			return err
		}
		defer wh.close()
	}
	current := fingerprint(settings)
	var configOK atomic.Bool
	configOK.Store(true)
	var reloadMu sync.Mutex
	reload := func() {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		s, err := loadSettings(ctx, src, env, log)
		m.Reloaded(err)
		if err != nil {
			configOK.Store(false)
			log.Error("config reload failed; keeping the last good config", "error", err)
			return
		}
		configOK.Store(true)
		if fp := fingerprint(s); fp != current {
			current = fp
			log.Info("config changed", "registries", len(s.Registries), "namespaces", strings.Join(s.Namespaces, ","), "serviceAccounts", strings.Join(s.ServiceAccounts, ","))
			ctrl.Update(s)
			if wh != nil {
				wh.update(ctx, s.Webhook)
			} else if s.Webhook.Enable {
				log.Warn("webhook-configuration enables the webhook: restart the controller to start it")
			}
		}
	}
	go func() {
		if err := src.watch(ctx, log, reload); err != nil {
			log.Error("cannot watch the config; changes need a restart", "error", err)
		}
	}()

	var leading atomic.Bool
	ready := func() (bool, string) {
		switch {
		case !configOK.Load():
			return false, "the config file does not parse: see the log"
		case !o.LeaderElect || leading.Load():
			if !ctrl.Synced() {
				return false, "caches syncing"
			}
			return true, "leading"
		}
		return true, "following"
	}
	ln, err := net.Listen("tcp", o.HealthAddr)
	if err != nil {
		return fmt.Errorf("--health-addr: %w", err)
	}
	if o.listening != nil {
		o.listening(ln.Addr().String())
	}
	srv := &http.Server{Handler: refresh.Handler(ready), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	mln, err := net.Listen("tcp", o.MetricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	if o.metricsListening != nil {
		o.metricsListening(mln.Addr().String())
	}
	msrv := &http.Server{Handler: refresh.MetricsHandler(m), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = msrv.Serve(mln) }()
	defer msrv.Close()

	// A changed per-namespace watch list ends the run (and the process: the new list's RBAC comes
	// with it, and a fresh start watches it).
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var restart error
	lead := func(ctx context.Context) {
		leading.Store(true)
		defer leading.Store(false)
		err := ctrl.Run(ctx)
		switch {
		case errors.Is(err, refresh.ErrWatchSetChanged):
			log.Info("exiting: " + err.Error())
			restart = err
			stopAll()
		case err != nil && ctx.Err() == nil:
			log.Error("controller stopped", "error", err)
		}
	}
	if !o.LeaderElect {
		lead(runCtx)
		return restart
	}
	lo := o.Lease
	lo.Namespace, lo.Name, lo.Identity = o.Namespace, o.LeaseName, identity()
	if err := refresh.RunLeading(runCtx, client, lo, log, m, lead); err != nil {
		return err
	}
	if restart != nil {
		return restart
	}
	if runCtx.Err() == nil {
		return errors.New("lost the Lease; exiting so that a fresh start follows the new leader")
	}
	return nil
}

func loadSettings(ctx context.Context, src source, env settingsEnv, log *slog.Logger) (refresh.Settings, error) {
	cfg, err := src.load(ctx)
	if err != nil {
		return refresh.Settings{}, err
	}
	return settingsFrom(ctx, cfg, env, log)
}

// fingerprint says whether two settings do the same thing.
func fingerprint(s refresh.Settings) string {
	var keys []string
	for _, r := range s.Registries {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return fmt.Sprint(keys, s.Namespaces, s.ServiceAccounts, s.Threshold, s.Email, s.Webhook)
}
