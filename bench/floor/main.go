// Command floor is baseline (a) of the benchmarks: it links the same packages as the helper (the
// Alibaba Cloud SDKs, credentials-go, docker-credential-helpers, xdg, yaml) and runs their package
// initialisation, but does nothing else than read stdin and print one JSON line. It is the floor
// that our choice of packages sets for a cached `get`.
package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"

	_ "github.com/adrg/xdg"
	_ "github.com/alibabacloud-go/cr-20181201/v2/client"
	_ "github.com/alibabacloud-go/sts-20150401/v2/client"
	_ "github.com/aliyun/credentials-go/credentials/providers"
	_ "github.com/docker/docker-credential-helpers/credentials"
	_ "gopkg.in/yaml.v3"
)

func main() {
	in, _ := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": strings.TrimSpace(string(in)), "Username": "u", "Secret": "s"})
}
