// Command prog imports only package keychain: what an embedder links (internal/lightness counts it).
package main

import (
	"context"
	"fmt"

	"github.com/docker-credential-acr/docker-credential-acr/keychain"
)

func main() {
	k, err := keychain.FromEnvironment()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com"))
}
