// Command acr-credential-controller does the ACK aliyun-acr-credential-helper add-on's job on any
// Kubernetes cluster: it keeps a kubernetes.io/dockerconfigjson Secret with fresh Alibaba Cloud
// Container Registry logins in each watched namespace and lists it in the selected service accounts'
// imagePullSecrets. It reads the docker-credential-acr config file (see the README's "Cluster-wide
// refresher").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	// The image is the binary alone: Mozilla's roots, embedded, verify Alibaba Cloud's APIs where
	// the system has none (the system's are used when present).
	_ "golang.org/x/crypto/x509roots/fallback"
)

func main() {
	o := defaultOptions()
	fs := newFlagSet(&o)
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "acr-credential-controller: unexpected argument %q (it takes flags only; see -h)\n", fs.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "acr-credential-controller:", err)
		os.Exit(1)
	}
}

// newFlagSet defines the flags into o (the README's Deployment patches are checked against it).
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("acr-credential-controller", flag.ContinueOnError)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: the in-cluster service account)")
	fs.StringVar(&o.ConfigPath, "config", o.ConfigPath, "the docker-credential-acr config file, typically a mounted ConfigMap; re-read when it changes")
	fs.StringVar(&o.AddonConfigMap, "addon-configmap", "", "read the ACK add-on's ConfigMap (NAMESPACE/NAME, e.g. kube-system/acr-configuration) through the API instead of --config; re-read when it changes")
	fs.BoolVar(&o.NamespacedRBAC, "namespaced-rbac", false, "with a list of watched namespaces, watch service accounts and Secrets in those namespaces only, so that the RBAC is granted per namespace (deploy/namespaced/); a change of the list restarts the process")
	fs.BoolVar(&o.AdoptAddonSecrets, "adopt-addon-secrets", false, "migration from the ACK add-on: adopt its acr-credential-<32 hex> Secrets in watched namespaces, named by service accounts or by workloads directly (dockerconfigjson, only hosts of the configured registries) and refresh them in place; needs deploy/migration/")
	fs.StringVar(&o.Region, "region", "", "the cluster's region, for entries without regionId (default: the ECS metadata service's region-id)")
	fs.BoolVar(&o.Webhook, "webhook", false, "serve the mutating admission webhook that adds the pull Secret to a selected service account at creation (webhook-configuration: enable: true does too)")
	fs.StringVar(&o.WebhookAddr, "webhook-addr", o.WebhookAddr, "address the webhook serves TLS on")
	fs.StringVar(&o.WebhookService, "webhook-service", o.WebhookService, "the webhook's Service in --namespace (its DNS names are in the serving certificate)")
	fs.StringVar(&o.WebhookConfigurationName, "webhook-configuration", o.WebhookConfigurationName, "the MutatingWebhookConfiguration whose caBundle, failure policy and timeout the controller keeps current")
	fs.StringVar(&o.WebhookCertSecret, "webhook-cert-secret", o.WebhookCertSecret, "the Secret in --namespace holding the webhook's CA and serving certificate (the controller creates and renews it)")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "the controller's own namespace, where its Lease lives")
	fs.BoolVar(&o.LeaderElect, "leader-elect", true, "hold a Lease so that one replica writes")
	fs.StringVar(&o.HealthAddr, "health-addr", o.HealthAddr, "address of /healthz and /readyz (the kubelet's probes)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", o.MetricsAddr, "address of /metrics; loopback by default, so that the metrics are not open to everyone: set :8081 to let Prometheus scrape them (and restrict who may with a NetworkPolicy)")
	fs.StringVar(&o.SecretName, "secret-name", o.SecretName, "name of the pull Secret in each namespace (the RBAC's resourceNames must match)")
	fs.StringVar(&o.LeaseName, "lease-name", o.LeaseName, "name of the Lease")
	fs.Float64Var(&o.QPS, "kube-api-qps", o.QPS, "requests per second to the API server (client-go's 5 is far too slow for many namespaces)")
	fs.IntVar(&o.Burst, "kube-api-burst", o.Burst, "burst of requests to the API server")
	fs.IntVar(&o.Workers, "workers", o.Workers, "namespaces reconciled at once")
	fs.DurationVar(&o.Lease.LeaseDuration, "lease-duration", 15*time.Second, "how long a Lease lasts unrenewed")
	fs.DurationVar(&o.Lease.RenewDeadline, "renew-deadline", 10*time.Second, "how long the leader tries to renew before it gives up")
	fs.DurationVar(&o.Lease.RetryPeriod, "retry-period", 2*time.Second, "how often replicas try the Lease")
	fs.BoolVar(&o.Debug, "debug", false, "log at debug level (never secrets)")
	return fs
}
