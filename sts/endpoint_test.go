package sts

import (
	"strings"
	"testing"
)

// The SDK's endpoint map and regional rule decide; the override wins.
func TestResolveEndpoint(t *testing.T) {
	for _, tt := range []struct {
		override, region string
		vpc              bool
		want             string // or "error: …"
	}{
		{region: "cn-hangzhou", want: "https://sts.cn-hangzhou.aliyuncs.com"},
		{region: "cn-hangzhou", vpc: true, want: "https://sts-vpc.cn-hangzhou.aliyuncs.com"},
		{region: "cn-shanghai-finance-1", want: "https://sts.cn-shanghai-finance-1.aliyuncs.com"},
		{region: "cn-shanghai-finance-1", vpc: true, want: "https://sts-vpc.cn-shanghai-finance-1.aliyuncs.com"},
		// In sts-20150401 v2.1.0's EndpointMap: the global endpoint, VPC or not.
		{region: "ap-south-1", want: "https://sts.aliyuncs.com"},
		{region: "ap-southeast-2", want: "https://sts.aliyuncs.com"},
		{region: "cn-wuhan", vpc: true, want: "https://sts.aliyuncs.com"},
		{region: "cn-fujian", want: "https://sts.aliyuncs.com"},
		{region: "cn-hongkong-finance-pop", vpc: true, want: "https://sts.aliyuncs.com"},
		{region: "", want: "https://sts.aliyuncs.com"},
		{region: "ap-southeast-1", vpc: true, want: "https://sts-vpc.ap-southeast-1.aliyuncs.com"},
		{override: "sts-proxy.{region}.example.com", region: "ap-south-1", want: "https://sts-proxy.ap-south-1.example.com"},
		{override: "http://127.0.0.1:8080", region: "cn-wuhan", vpc: true, want: "http://127.0.0.1:8080"},
		{override: "sts.{region}.aliyuncs.com", region: "", want: "error: needs a region"},
		{region: "cn_hangzhou", want: "error: not a region id"},
		{region: "evil.example/", want: "error: not a region id"},
	} {
		got, err := ResolveEndpoint(tt.override, tt.region, tt.vpc)
		if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ResolveEndpoint(%q, %q, %v) = %v, %v; want error %q", tt.override, tt.region, tt.vpc, got, err, want)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ResolveEndpoint(%q, %q, %v) = %v, %v; want %s", tt.override, tt.region, tt.vpc, got, err, tt.want)
		}
	}
}
