package sts

import (
	"fmt"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	stsapi "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// globalEndpoint is the STS endpoint that serves every region.
const globalEndpoint = "sts.aliyuncs.com"

// ResolveEndpoint is where the STS calls for region go.
//
//   - An override (endpoints.sts, ALIBABA_CLOUD_STS_ENDPOINT) always wins: "host[:port]",
//     "https://…", "http://" for loopback only, "{region}" replaced (cloudapi.ResolveEndpoint).
//   - Otherwise the sts-20150401 SDK decides, exactly as its client does when built without an
//     endpoint (client.Init: EndpointRule "regional" with its EndpointMap, then
//     darabonba-openapi's GetEndpointRules): the regions in its map (ap-south-1, ap-southeast-2,
//     cn-wuhan, cn-fujian, cn-beijing-finance-pop, cn-hongkong-finance-pop, …) go to
//     sts.aliyuncs.com whatever the network; the others to sts.<region>.aliyuncs.com, or with vpc
//     sts-vpc.<region>.aliyuncs.com (finance regions such as cn-shanghai-finance-1 included).
//     The SDK is asked, not copied, so a newer SDK's map is followed.
//   - No region known (a custom domain without regionId): the global endpoint.
func ResolveEndpoint(override, region string, vpc bool) (cloudapi.Endpoint, error) {
	if override != "" {
		return cloudapi.ResolveEndpoint(override, "sts", region, vpc)
	}
	if region == "" {
		return cloudapi.Endpoint{Host: globalEndpoint, Scheme: "https"}, nil
	}
	if !acr.ValidRegion(region) {
		return cloudapi.Endpoint{}, fmt.Errorf("%q is not a region id (like cn-hangzhou)", region)
	}
	cfg := &openapi.Config{RegionId: dara.String(region)}
	if vpc {
		cfg.Network = dara.String("vpc")
	}
	// No credentials: Init builds no credential provider and makes no network call; it only
	// computes client.Endpoint.
	c, err := stsapi.NewClient(cfg)
	if err != nil {
		return cloudapi.Endpoint{}, fmt.Errorf("no STS endpoint for region %s: %s", region, cloudapi.Scrub(err.Error()))
	}
	host := dara.StringValue(c.Endpoint)
	if _, err := acr.ParseHostPort(host); err != nil {
		return cloudapi.Endpoint{}, fmt.Errorf("no STS endpoint for region %s", region)
	}
	return cloudapi.Endpoint{Host: host, Scheme: "https"}, nil
}
