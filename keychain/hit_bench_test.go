package keychain

import (
	"os"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// BenchmarkHitPath is the in-process part of a cached `get`: load the config, plan the host
// (parse, match, find the credential source, compute the key), read the cache entry.
func BenchmarkHitPath(b *testing.B) {
	w := newWorld(b)
	w.useAK(b, devAK, devSK)
	k := w.keychain(b)
	if _, err := k.Login(ctx(b), "registry.cn-hangzhou.aliyuncs.com"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := config.Load(os.Getenv); err != nil {
			b.Fatal(err)
		}
		l, err := k.Login(ctx(b), "registry.cn-hangzhou.aliyuncs.com")
		if err != nil || l.Source != "cache" {
			b.Fatal(l, err)
		}
	}
}
