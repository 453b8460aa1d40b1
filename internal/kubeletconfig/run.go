// Package kubeletconfig prints the kubelet's CredentialProviderConfig that enables
// docker-credential-acr as an image credential provider (`docker-credential-acr
// print-kubelet-config`): the other "configure your client" command, beside internal/dockerconfig.
package kubeletconfig

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
)

// Run is the print-kubelet-config command: args are the arguments after
// "print-kubelet-config"; getenv reads the environment (the OIDC provider's default). The config
// goes to stdout, usage and errors to stderr. It returns the exit code: 0 printed (or --help),
// 2 bad flags, 1 any other error.
func Run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var usage bytes.Buffer
	opts, err := parseArgs(args, getenv, &usage)
	if errors.Is(err, flag.ErrHelp) {
		// Asked for: the usage is the answer, on stdout.
		_, _ = stdout.Write(usage.Bytes())
		return 0
	}
	if err != nil {
		_, _ = stderr.Write(usage.Bytes())
		if !bytes.Contains(usage.Bytes(), []byte(err.Error())) { // the flag package said it already
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	if err := write(stdout, opts); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// parseArgs reads the flags of `print-kubelet-config`:
//
//	--name NAME  --api-version VERSION  --default-cache-duration DURATION
//	--match-image PATTERN (repeatable)  --service-account-tokens  --audience AUDIENCE
//	--require-role-annotation  --role-annotation KEY  --oidc-provider-arn ARN
//
// --oidc-provider-arn defaults to DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN or
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN. Usage errors are returned; -h gives flag.ErrHelp.
func parseArgs(args []string, getenv func(string) string, usage io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("print-kubelet-config", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: docker-credential-acr print-kubelet-config [--service-account-tokens --oidc-provider-arn ARN] [--match-image HOST]... [flags]

Prints the kubelet's CredentialProviderConfig that runs this binary as the image credential provider
acr-credential-provider, for every ACR host form and the domains of the helper's config file:
  docker-credential-acr print-kubelet-config > /etc/kubernetes/acr-credential-provider.yaml

Options:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Name, "name", kubeletapi.ProviderName, "provider name: the executable's name in the kubelet's --image-credential-provider-bin-dir")
	fs.StringVar(&o.APIVersion, "api-version", kubeletapi.APIVersionV1, "apiVersion of the requests (v1 for Kubernetes 1.26+; v1beta1, v1alpha1 for older kubelets)")
	fs.DurationVar(&o.DefaultCacheDuration, "default-cache-duration", defaultCacheDuration, "defaultCacheDuration")
	fs.Func("match-image", "an extra matchImages pattern, e.g. a custom domain of an Enterprise instance (repeatable)", func(s string) error {
		o.MatchImages = append(o.MatchImages, s)
		return nil
	})
	fs.BoolVar(&o.ServiceAccountTokens, "service-account-tokens", false, "per-workload identity with service-account tokens (Kubernetes 1.34+)")
	fs.StringVar(&o.Audience, "audience", defaultAudience, "audience of the service-account tokens")
	fs.BoolVar(&o.RequireRoleAnnotation, "require-role-annotation", false, "only pods whose service account carries --role-annotation get credentials from this provider (default: pods without a role keep the node's identity)")
	fs.StringVar(&o.RoleAnnotation, "role-annotation", "", "with --require-role-annotation, the annotation required: "+kubeletapi.AnnotationRoleARN+" (default) or "+kubeletapi.AnnotationACKRoleName)
	fs.StringVar(&o.OIDCProviderARN, "oidc-provider-arn", providerFromEnv(getenv), "the cluster's RAM OIDC provider, acs:ram::<account>:oidc-provider/<name>")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("print-kubelet-config: unexpected argument %q", truncate(fs.Arg(0)))
	}
	return o, nil
}

// providerFromEnv is the cluster's RAM OIDC provider from the environment
// (DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN, else ALIBABA_CLOUD_OIDC_PROVIDER_ARN).
func providerFromEnv(getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	if v := strings.TrimSpace(getenv(kubeletapi.EnvOIDCProviderARN)); v != "" {
		return v
	}
	return strings.TrimSpace(getenv(kubeletapi.EnvAlibabaOIDCProviderARN))
}

const (
	// defaultAudience is the audience of the service-account tokens: the client id RAM OIDC
	// providers list for STS (as ACK's RRSA does).
	defaultAudience = "sts.aliyuncs.com"
	// defaultCacheDuration is the printed defaultCacheDuration. Answers with a token say their
	// own duration; the default applies to stored `docker login` credentials.
	defaultCacheDuration = 30 * time.Minute
)

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
