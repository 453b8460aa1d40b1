package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
)

// ecsMetadata is the ECS metadata service; only tests change it (to the fake's loopback address).
const ecsMetadata = "http://100.100.100.200"

// clusterRegion is the region of entries that name none (the ACK add-on's rule: the cluster's
// region): --region, else the ECS metadata service's region-id, asked once, directly (never
// through a proxy) and bounded, as the helper reaches the metadata service.
type clusterRegion struct {
	flag string
	base string // ecsMetadata unless a test says otherwise

	mu     sync.Mutex
	region string
	err    error
	asked  bool
}

func (c *clusterRegion) get(ctx context.Context) (string, error) {
	if c.flag != "" {
		return c.flag, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.asked {
		c.region, c.err = metadataRegion(ctx, c.base)
		c.asked = c.err == nil // a failure is asked again at the next reload
	}
	return c.region, c.err
}

func metadataRegion(ctx context.Context, base string) (string, error) {
	if base == "" {
		base = ecsMetadata
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		Proxy:                 nil, // the metadata service is never reached through a proxy
		DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
		ResponseHeaderTimeout: 2 * time.Second,
		DisableKeepAlives:     true,
	}}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// IMDSv2 first (a token), then the item with it; an instance that allows IMDSv1 answers either way.
	var token string
	if req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/latest/api/token", nil); err == nil {
		req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "60")
		if resp, err := client.Do(req); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				token = strings.TrimSpace(string(b))
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/latest/meta-data/region-id", nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("X-aliyun-ecs-metadata-token", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", errors.New("the ECS metadata service is not reachable (not an ECS instance?)")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	region := strings.TrimSpace(string(b))
	if resp.StatusCode != http.StatusOK || !acr.ValidRegion(region) {
		return "", fmt.Errorf("the ECS metadata service did not name a region (HTTP %d)", resp.StatusCode)
	}
	return region, nil
}
