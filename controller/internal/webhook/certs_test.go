package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func bundleCerts(t *testing.T, b []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return out
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// One Secret shared by the replicas: the second replica serves the first one's certificate; a
// certificate in its last 30 days is renewed, and the bundle keeps the previous CA while it lives;
// the serving certificate verifies against the bundle for the hosts.
func TestCertsIssueShareRenew(t *testing.T) {
	client := fake.NewClientset()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hosts := []string{"127.0.0.1", "acr-credential-controller-webhook.kube-system.svc"}
	newCerts := func() *Certs {
		return &Certs{Client: client, Namespace: "kube-system", SecretName: "tls", Hosts: hosts, Now: func() time.Time { return now }}
	}
	a, b := newCerts(), newCerts()
	ctx := context.Background()
	if err := a.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	ca, _ := a.GetCertificate(nil)
	cb, _ := b.GetCertificate(nil)
	if string(ca.Certificate[0]) != string(cb.Certificate[0]) {
		t.Fatal("two replicas serve different certificates")
	}
	verify := func(c *Certs, at time.Time) {
		t.Helper()
		pool := x509.NewCertPool()
		for _, ca := range bundleCerts(t, c.CABundle()) {
			pool.AddCert(ca)
		}
		cert, err := c.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(cert.Certificate[0])
		for _, h := range hosts {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h, CurrentTime: at}); err != nil {
				t.Errorf("%s: %v", h, err)
			}
		}
	}
	verify(a, now)
	first := bundleCerts(t, a.CABundle())
	if len(first) != 1 {
		t.Fatalf("%d CAs in a first bundle", len(first))
	}

	// 340 days on: in the last 30 days of the year's certificate, renewed.
	now = now.Add(340 * 24 * time.Hour)
	if err := a.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	renewed := bundleCerts(t, a.CABundle())
	if len(renewed) != 2 || renewed[1].Equal(renewed[0]) || !renewed[1].Equal(first[0]) {
		t.Errorf("after renewal the bundle holds %d CAs, want the new one and the previous", len(renewed))
	}
	verify(a, now)
	// The other replica picks the renewal up from the Secret.
	if err := b.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if string(b.CABundle()) != string(a.CABundle()) {
		t.Error("the second replica did not pick up the renewal")
	}
	sec, err := client.CoreV1().Secrets("kube-system").Get(ctx, "tls", metav1.GetOptions{})
	if err != nil || sec.Type != "kubernetes.io/tls" {
		t.Fatalf("Secret %v: %v", sec, err)
	}

	// Other hosts (a renamed Service): a new certificate at once.
	c := &Certs{Client: client, Namespace: "kube-system", SecretName: "tls", Hosts: []string{"other.kube-system.svc"}, Now: func() time.Time { return now }}
	if err := c.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	leaf, _ := c.GetCertificate(nil)
	if x, _ := x509.ParseCertificate(leaf.Certificate[0]); x.VerifyHostname("other.kube-system.svc") != nil {
		t.Error("the certificate does not name the new host")
	}
}
