package kubeletconfig

import (
	"bytes"
	"flag"
)

// Options are print-kubelet-config's options, for other commands that write the same provider
// (the node installer, internal/kubeletinstall): defined on their flag set by AddFlags.
type Options struct{ o options }

// AddFlags defines print-kubelet-config's flags on fs; the result holds their values once fs is
// parsed. getenv gives --oidc-provider-arn its default.
func AddFlags(fs *flag.FlagSet, getenv func(string) string) *Options {
	var o Options
	defineFlags(fs, &o.o, getenv)
	return &o
}

// Config is the CredentialProviderConfig the options give, exactly as print-kubelet-config prints
// it, with the provider's name and the config's apiVersion
// (kubelet.config.k8s.io/<version>).
func (o *Options) Config() (yaml []byte, name, configAPIVersion string, err error) {
	d, err := o.o.withDefaults()
	if err != nil {
		return nil, "", "", err
	}
	var b bytes.Buffer
	// write applies the defaults itself (and refuses options already defaulted).
	if err := write(&b, o.o); err != nil {
		return nil, "", "", err
	}
	return b.Bytes(), d.Name, configVersionOf(d.APIVersion), nil
}

// ServiceAccountAudience is the audience of the service-account tokens, "" without
// --service-account-tokens.
func (o *Options) ServiceAccountAudience() string {
	d, err := o.o.withDefaults()
	if err != nil || !d.ServiceAccountTokens {
		return ""
	}
	return d.Audience
}
