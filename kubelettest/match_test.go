package kubelettest

import (
	"bytes"
	"testing"

	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"k8s.io/kubernetes/pkg/credentialprovider"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletconfig"
)

// TestPrintedMatchImagesWithKubeletMatching: the kubelet asks a plugin only for images one of its
// matchImages patterns matches, with its own rule (k8s.io/kubernetes/pkg/credentialprovider
// URLsMatchStr, which the plugin manager calls: same number of host labels, each a glob of its
// pattern label, the same port, a path prefix). Every ACR host the helper serves must be matched
// by the printed default config, and hosts that merely contain an ACR name must not.
func TestPrintedMatchImagesWithKubeletMatching(t *testing.T) {
	isolate(t)
	var b, stderr bytes.Buffer
	if code := kubeletconfig.Run(nil, func(string) string { return "" }, &b, &stderr); code != 0 {
		t.Fatalf("print-kubelet-config: exit %d: %s", code, stderr.String())
	}
	obj, _, err := configCodecs.UniversalDeserializer().Decode(b.Bytes(), nil, nil)
	if err != nil {
		t.Fatalf("the kubelet's decoder refuses the config: %v", err)
	}
	cfg, ok := obj.(*kubeletconfigv1.CredentialProviderConfig)
	if !ok || len(cfg.Providers) != 1 {
		t.Fatalf("decoded %T", obj)
	}
	patterns := cfg.Providers[0].MatchImages
	matched := func(image string) []string {
		var by []string
		for _, p := range patterns {
			ok, err := credentialprovider.URLsMatchStr(p, image)
			if err != nil {
				t.Fatalf("URLsMatchStr(%q, %q): %v", p, image, err)
			}
			if ok {
				by = append(by, p)
			}
		}
		return by
	}
	hosts := []string{
		// cn-hangzhou's Personal registry without a region: three labels (issue 20 item 14).
		"registry.aliyuncs.com",
		"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com",
		"registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl.ap-southeast-1.aliyuncs.com",
		"registry-intl-vpc.ap-southeast-1.aliyuncs.com", "registry.cn-shanghai-finance-1.aliyuncs.com",
		"crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com", "crpi-abcdefgh12345678-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
		"acme-registry.cn-hangzhou.cr.aliyuncs.com", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
		"aworld-registry-registry-vpc.cn-beijing.cr.aliyuncs.com",
		"acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com",
	}
	var images []string
	for _, h := range hosts {
		// The kubelet compares ports exactly: each host also with the default port.
		images = append(images, h+"/ns/app:1", h+":443/ns/app@sha256:"+sha)
	}
	images = append(images, "acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/ns/app:1")
	for _, image := range images {
		reg, err := acr.Parse(image[:bytes.IndexByte([]byte(image), '/')])
		if err != nil || !reg.IsACR() {
			t.Errorf("%s: not ACR by acr.Parse (%v): the test's list is wrong", image, err)
		}
		if by := matched(image); len(by) == 0 {
			t.Errorf("the kubelet would not ask the plugin for %s: no matchImages pattern matches it", image)
		}
	}
	for _, image := range []string{
		"registry.aliyuncs.com.evil.example/ns/app", "evil.example/registry.aliyuncs.com/app",
		"registry.cn-hangzhou.aliyuncs.com.evil.example/ns/app", "evil.example/registry.cn-hangzhou.aliyuncs.com/app",
		"docker.io/library/nginx", "nginx", "oss-cn-hangzhou.aliyuncs.com/x", "ecs.cn-hangzhou.aliyuncs.com/x",
		"ecs.aliyuncs.com/x", "registry-evil.aliyuncs.com/x", "registry.aliyuncs.com:5000/ns/app",
		"registry.cn-hangzhou.aliyuncs.com:5000/ns/app", "acme-registry.cn-hangzhou.cr.aliyuncs.com:65001/ns/app",
	} {
		if by := matched(image); len(by) > 0 {
			t.Errorf("the kubelet would ask the plugin for %s (matched by %v)", image, by)
		}
	}
}

const sha = "0000000000000000000000000000000000000000000000000000000000000000"
