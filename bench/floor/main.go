// Command floor is baseline (a) of the benchmarks: it links the same packages as the helper (the
// Alibaba Cloud SDKs, credentials-go, docker-credential-helpers, xdg, yaml, net/http with TLS)
// and the entry points the helper uses from each, so that the linker keeps the same code, but it
// runs none of it: it reads stdin and prints one JSON line. It is the floor that our choice of
// packages sets for a process start, and the cached `get` is measured against it.
package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/adrg/xdg"
	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/aliyun/credentials-go/credentials/providers"
	"github.com/docker/docker-credential-helpers/credentials"
	"go.yaml.in/yaml/v3"
)

func main() {
	in, _ := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	if len(os.Args) > 1000 { // never true: keeps the packages' code linked, as in the helper
		linkEverything()
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": strings.TrimSpace(string(in)), "Username": "u", "Secret": "s"})
}

func linkEverything() {
	var n yaml.Node
	_ = yaml.Unmarshal(nil, &n)
	c, _ := cr.NewClient(&openapi.Config{})
	_, _ = c.CallApi(nil, nil, nil)
	s, _ := sts.NewClient(&openapi.Config{})
	_, _ = s.AssumeRole(nil)
	_, _ = providers.NewCLIProfileCredentialsProviderBuilder().Build()
	_, _ = providers.NewProfileCredentialsProviderBuilder().Build()
	_, _ = providers.NewECSRAMRoleCredentialsProviderBuilder().Build()
	_, _ = providers.NewURLCredentialsProviderBuilder().Build()
	_ = credentials.HandleCommand(nil, "", nil, nil)
	_, _ = xdg.SearchConfigFile("x")
	_, _ = http.Get("https://example.invalid/")
	slog.Info("x")
}
