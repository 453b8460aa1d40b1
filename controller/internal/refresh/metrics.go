package refresh

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	refreshes  *prometheus.CounterVec
	failures   *prometheus.CounterVec
	reconcileF prometheus.Counter
	secrets    prometheus.Counter
	patches    prometheus.Counter
	reloads    *prometheus.CounterVec
	leader     prometheus.Gauge

	mu      sync.Mutex
	expires map[string]time.Time
	now     func() time.Time
}

// NewMetrics registers the metrics on a registry of their own (with the Go and process collectors).
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), expires: map[string]time.Time{}, now: time.Now}
	const ns = "acr_credential_controller"
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "token_refreshes_total", Help: "ACR logins fetched, by registry entry."}, []string{"registry"})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "token_refresh_failures_total", Help: "Failed ACR login fetches, by registry entry."}, []string{"registry"})
	m.reconcileF = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_failures_total", Help: "Namespace reconciles that failed and were retried."})
	m.secrets = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "secret_writes_total", Help: "Pull Secrets created or updated."})
	m.patches = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "serviceaccount_patches_total", Help: "Service account imagePullSecrets patches."})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "config_reloads_total", Help: "Config file reloads, by result."}, []string{"result"})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leader", Help: "1 while this replica holds the Lease."})
	m.Registry.MustRegister(m.refreshes, m.failures, m.reconcileF, m.secrets, m.patches, m.reloads, m.leader, expiryCollector{m},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

var expiryDesc = prometheus.NewDesc("acr_credential_controller_token_expiry_seconds",
	"Seconds until the ACR login of a registry entry expires (negative once expired).", []string{"registry"}, nil)

// expiryCollector computes the seconds left at scrape time.
type expiryCollector struct{ m *Metrics }

func (e expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (e expiryCollector) Collect(ch chan<- prometheus.Metric) {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	now := e.m.now()
	for name, at := range e.m.expires {
		ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, at.Sub(now).Seconds(), name)
	}
}

func (m *Metrics) refreshed(registry string, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.failures.WithLabelValues(registry).Inc()
		return
	}
	m.refreshes.WithLabelValues(registry).Inc()
}

func (m *Metrics) setExpiry(registry string, at time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.expires[registry] = at
	m.mu.Unlock()
}

// keepRegistries forgets the expiry of entries no longer configured.
func (m *Metrics) keepRegistries(names map[string]bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for n := range m.expires {
		if !names[n] {
			delete(m.expires, n)
		}
	}
}

func (m *Metrics) reconcileFailed() {
	if m != nil {
		m.reconcileF.Inc()
	}
}

func (m *Metrics) secretWritten() {
	if m != nil {
		m.secrets.Inc()
	}
}

func (m *Metrics) accountPatched() {
	if m != nil {
		m.patches.Inc()
	}
}

// Reloaded counts a config reload.
func (m *Metrics) Reloaded(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
}

// SetLeader records whether this replica leads.
func (m *Metrics) SetLeader(on bool) {
	if m == nil {
		return
	}
	if on {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}
