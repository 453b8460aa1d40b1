package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/webhook"
)

// webhookServer is the admission webhook of this replica: TLS with the certificate the replicas
// share (webhook.Certs), and the MutatingWebhookConfiguration kept current.
type webhookServer struct {
	client kubernetes.Interface
	certs  *webhook.Certs
	srv    *http.Server
	log    *slog.Logger
	name   string
	url    string

	mu       sync.Mutex
	settings refresh.Webhook
}

func startWebhook(ctx context.Context, o options, client kubernetes.Interface, ctrl *refresh.Controller, s refresh.Webhook, log *slog.Logger) (*webhookServer, error) {
	ln, err := net.Listen("tcp", o.WebhookAddr)
	if err != nil {
		return nil, fmt.Errorf("--webhook-addr: %w", err)
	}
	addr := ln.Addr().String()
	svc := o.WebhookService + "." + o.Namespace
	hosts := []string{svc + ".svc", svc, svc + ".svc.cluster.local"}
	w := &webhookServer{client: client, log: log, name: o.WebhookConfigurationName, settings: s}
	if o.webhookURL != nil {
		w.url = o.webhookURL(addr)
		host, _, _ := net.SplitHostPort(addr)
		hosts = append([]string{host}, hosts...)
	}
	w.certs = &webhook.Certs{Client: client, Namespace: o.Namespace, SecretName: o.WebhookCertSecret, Hosts: hosts,
		Labels: map[string]string{refresh.ManagedByLabel: refresh.ManagedByValue}, Log: log}
	if err := w.certs.Ensure(ctx); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(refresh.AdmitPath, ctrl.AdmitHandler())
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: w.certs.GetCertificate}}
	go func() {
		if err := w.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("webhook server stopped", "error", err)
		}
	}()
	if o.webhookListening != nil {
		o.webhookListening(addr)
	}
	w.sync(ctx)
	go w.certs.Run(ctx, time.Hour, func() { w.sync(ctx) })
	log.Info("webhook: serving", "addr", addr, "configuration", w.name, "failurePolicy", s.FailurePolicy, "timeoutSeconds", s.TimeoutSeconds)
	return w, nil
}

func (w *webhookServer) update(ctx context.Context, s refresh.Webhook) {
	w.mu.Lock()
	w.settings = s
	w.mu.Unlock()
	w.sync(ctx)
}

// sync writes caBundle, failure policy and timeout into the webhook configuration; every replica
// writes the same values, so a conflict is retried a few times and otherwise left to the next sync.
func (w *webhookServer) sync(ctx context.Context) {
	w.mu.Lock()
	s := w.settings
	w.mu.Unlock()
	want := webhook.Configuration{Name: w.name, CABundle: w.certs.CABundle(), FailurePolicy: s.FailurePolicy, TimeoutSeconds: s.TimeoutSeconds, URL: w.url}
	for range 3 {
		changed, err := webhook.Sync(ctx, w.client, want)
		if apierrors.IsConflict(errors.Unwrap(err)) {
			continue
		}
		if err != nil {
			w.log.Error("webhook: cannot update its configuration; service accounts are served by the controller's loop only", "error", err)
		} else if changed {
			w.log.Info("webhook: configuration updated", "configuration", w.name, "failurePolicy", s.FailurePolicy, "timeoutSeconds", s.TimeoutSeconds)
		}
		return
	}
}

func (w *webhookServer) close() { _ = w.srv.Close() }
