package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/docker-credential-acr/docker-credential-acr/internal/regularfile"
)

// CAFile is a certificate authority named in the configuration for one endpoint override: a KMS
// 3.0 instance gateway (<kms-instance-id>.cryptoservice.kms.aliyuncs.com) serves a certificate
// from Alibaba Cloud's private KMS CA, which system trust stores do not hold. The endpoint then
// trusts exactly these certificates; the default endpoints keep the system roots.
type CAFile struct {
	Path string
	Pool *x509.CertPool
}

const maxCAFileSize = 1 << 20

// caFileSetter reads a CA file key: an absolute path (the helper runs in whatever directory its
// caller is in) to a regular file of PEM certificates, read and checked now, so that a wrong one is
// reported with the config file's line, never at the first call.
func caFileSetter(dst **CAFile) func(string, string, *yaml.Node) error {
	return func(p, k string, v *yaml.Node) error {
		var path string
		if err := stringSetter(&path)(p, k, v); err != nil {
			return err
		}
		if !filepath.IsAbs(path) {
			return fileError(p, v, k, fmt.Sprintf("%q is not an absolute path: write the full path of the CA certificate file (PEM)", path))
		}
		data, err := regularfile.Read(path, maxCAFileSize)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fileError(p, v, k, fmt.Sprintf("%s does not exist: name the PEM file of the endpoint's CA (for a KMS instance gateway, the instance's CA certificate from the KMS console)", path))
			}
			return fileError(p, v, k, fmt.Sprintf("cannot read the CA file: %v", err))
		}
		pool := x509.NewCertPool()
		n := 0
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fileError(p, v, k, fmt.Sprintf("%s: certificate %d does not parse: %v", path, n+1, err))
			}
			pool.AddCert(cert)
			n++
		}
		if n == 0 {
			return fileError(p, v, k, fmt.Sprintf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path))
		}
		*dst = &CAFile{Path: path, Pool: pool}
		return nil
	}
}

// KMSEndpoint is the KMS endpoint override of a secret entry and the CA trusted there: the
// entry's kmsEndpoint with its kmsCAFile, else endpoints.kms with endpoints.kmsCAFile ("" and nil:
// the default endpoint of the secret's region, with the system roots).
func (c *Config) KMSEndpoint(s *Secret) (override string, ca *CAFile) {
	if s != nil && s.Endpoint != "" {
		return s.Endpoint, s.CA
	}
	return c.Endpoints.KMS, c.Endpoints.KMSCA
}
