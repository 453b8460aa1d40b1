// Package webhook runs the controller's mutating admission webhook: the serving certificate it
// manages (a CA and a serving certificate kept in one Secret, renewed before they expire) and the
// caBundle, failure policy and timeout of its MutatingWebhookConfiguration, kept current. What the
// webhook does to a service account is refresh's (admit.go).
package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Lifetimes: the serving certificate lives a year and is renewed in its last 30 days; the CA that
// signs it is renewed with it, and the previous CA stays in the bundle while certificates it
// signed may still be served by another replica.
const (
	certLife  = 365 * 24 * time.Hour
	renewLeft = 30 * 24 * time.Hour
	caKey     = "ca.crt"
)

// Certs is the webhook's serving certificate, shared by the replicas through one Secret.
type Certs struct {
	Client     kubernetes.Interface
	Namespace  string
	SecretName string
	// Hosts are the names the certificate is for: the Service's DNS names, or (tests) an IP.
	Hosts  []string
	Labels map[string]string
	Log    *slog.Logger
	Now    func() time.Time

	mu     sync.RWMutex
	cert   *tls.Certificate
	bundle []byte
}

func (c *Certs) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (c *Certs) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.cert == nil {
		return nil, errors.New("no serving certificate yet")
	}
	return c.cert, nil
}

// CABundle is the PEM bundle the API server must trust (current CA, and the previous while it may
// still be in use).
func (c *Certs) CABundle() []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return bytes.Clone(c.bundle)
}

// Ensure loads the certificate from the Secret, creating or renewing it there when it is missing,
// for other hosts, or due; a concurrent writer (another replica) wins and its certificate is used.
func (c *Certs) Ensure(ctx context.Context) error {
	for range 3 {
		sec, err := c.Client.CoreV1().Secrets(c.Namespace).Get(ctx, c.SecretName, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading the webhook's certificate Secret %s/%s: %w", c.Namespace, c.SecretName, err)
		}
		if err == nil {
			if cert, ok := c.usable(sec); ok {
				c.set(cert, sec.Data[caKey])
				return nil
			}
		}
		var old []byte
		if sec != nil && err == nil {
			old = sec.Data[caKey]
		}
		data, err2 := c.issue(old)
		if err2 != nil {
			return err2
		}
		if err != nil { // not found
			_, err = c.Client.CoreV1().Secrets(c.Namespace).Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: c.Namespace, Labels: c.Labels},
				Type:       corev1.SecretTypeTLS, Data: data,
			}, metav1.CreateOptions{})
		} else {
			upd := sec.DeepCopy()
			upd.Data = data
			_, err = c.Client.CoreV1().Secrets(c.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
		}
		if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
			continue // another replica wrote it: read theirs
		}
		if err != nil {
			return fmt.Errorf("writing the webhook's certificate Secret %s/%s: %w", c.Namespace, c.SecretName, err)
		}
		if c.Log != nil {
			c.Log.Info("webhook: issued a serving certificate", "secret", c.Namespace+"/"+c.SecretName, "hosts", fmt.Sprint(c.Hosts))
		}
	}
	return fmt.Errorf("the webhook's certificate Secret %s/%s keeps changing under this replica", c.Namespace, c.SecretName)
}

// Run renews the certificate when due, and picks up another replica's renewal, until ctx ends.
func (c *Certs) Run(ctx context.Context, every time.Duration, changed func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := c.CABundle()
		if err := c.Ensure(ctx); err != nil && c.Log != nil {
			c.Log.Warn("webhook: renewing the serving certificate failed; retrying", "error", err)
		}
		if !bytes.Equal(before, c.CABundle()) && changed != nil {
			changed()
		}
	}
}

func (c *Certs) set(cert *tls.Certificate, bundle []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cert, c.bundle = cert, bytes.Clone(bundle)
}

// usable parses the Secret's certificate and says whether it serves the hosts and is not due.
func (c *Certs) usable(sec *corev1.Secret) (*tls.Certificate, bool) {
	cert, err := tls.X509KeyPair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey])
	if err != nil || len(sec.Data[caKey]) == 0 {
		return nil, false
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || c.now().Add(renewLeft).After(leaf.NotAfter) {
		return nil, false
	}
	for _, h := range c.Hosts {
		if leaf.VerifyHostname(h) != nil {
			return nil, false
		}
	}
	cert.Leaf = leaf
	return &cert, true
}

// issue makes a new CA and a serving certificate for the hosts; the bundle holds the new CA and
// the still valid CAs of oldBundle.
func (c *Certs) issue(oldBundle []byte) (map[string][]byte, error) {
	now := c.now()
	caPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "acr-credential-controller webhook CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certLife + renewLeft),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caPriv.PublicKey, caPriv)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: c.Hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certLife),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range c.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &priv.PublicKey, caPriv)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for rest := oldBundle; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if old, err := x509.ParseCertificate(b.Bytes); err == nil && now.Before(old.NotAfter) && len(bundle) < 16<<10 {
			bundle = append(bundle, pem.EncodeToMemory(b)...)
		}
	}
	return map[string][]byte{
		corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		caKey:                   bundle,
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n.Add(n, big.NewInt(1))
}
