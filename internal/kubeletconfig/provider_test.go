package kubeletconfig

import (
	"bytes"
	"flag"
	"io"
	"testing"
)

// TestOptionsConfigIsPrinted: the installer's config is print-kubelet-config's, byte for byte.
func TestOptionsConfigIsPrinted(t *testing.T) {
	arn := "acs:ram::1111111111111111:oidc-provider/ack-rrsa-c1"
	for _, args := range [][]string{
		nil,
		{"--match-image", "registry.example.com", "--default-cache-duration", "5m"},
		{"--api-version", "v1beta1", "--name", "acr"},
		{"--service-account-tokens", "--oidc-provider-arn", arn, "--require-role-annotation", "--role-annotation", "pod-identity.alibabacloud.com/role-name"},
	} {
		var printed, stderr bytes.Buffer
		if code := Run(args, func(string) string { return "" }, &printed, &stderr); code != 0 {
			t.Fatalf("%q: exit %d %s", args, code, stderr.String())
		}
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := AddFlags(fs, func(string) string { return "" })
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		cfg, name, version, err := o.Config()
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if !bytes.Equal(cfg, printed.Bytes()) {
			t.Errorf("%q: the installer's config differs from the printed one:\n%s\n---\n%s", args, cfg, printed.String())
		}
		if !bytes.Contains(cfg, []byte("apiVersion: "+version+"\n")) || !bytes.Contains(cfg, []byte(`- name: "`+name+`"`)) {
			t.Errorf("%q: name %q, apiVersion %q not those of the config:\n%s", args, name, version, cfg)
		}
		// Asked twice, the same (the options are not changed by defaulting).
		again, _, _, err := o.Config()
		if err != nil || !bytes.Equal(again, cfg) {
			t.Errorf("%q: a second Config: %v", args, err)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o := AddFlags(fs, func(string) string { return "" })
	_ = fs.Parse([]string{"--service-account-tokens"})
	if _, _, _, err := o.Config(); err == nil {
		t.Error("per-workload identity without the OIDC provider was accepted")
	}
}
