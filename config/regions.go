package config

import (
	"fmt"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"go.yaml.in/yaml/v3"
)

// The region rule. Every ACR default domain names its region (registry.<region>.aliyuncs.com,
// <name>-registry.<region>.cr.aliyuncs.com, crpi-….<region>.personal.cr.aliyuncs.com), and a host
// that names its region keeps it: an entry's regionId never rewrites it (a catch-all regionId once
// turned a cn-hangzhou host's token into a cn-beijing one). An entry's regionId is the region of
// the hosts that do not name one: the custom domains it lists. So a config in which regionId
// could only be ignored or contradict a host is refused, with the entries and why:
//   - regionId on an entry with neither domains nor instanceId (it applies to ACR hosts only, and
//     each names its region);
//   - regionId on an entry that lists an ACR default domain naming another region;
//   - a domain listed by two entries (which entry, and so which region and roles, would be a
//     matter of order).
// An instanceId entry's regionId must match the region its instance's default domains name; the
// keychain checks that when it sees the host.

func checkRegions(path, key string, regs []Registry, nodes []*yaml.Node) error {
	owner := map[string]int{}
	for i := range regs {
		r := &regs[i]
		name := fmt.Sprintf("%s[%d]", key, i)
		if r.RegionID != "" && len(r.Domains) == 0 && r.InstanceID == "" {
			return fileError(path, nodes[i], name+".regionId", fmt.Sprintf(
				"%s on an entry without domains or instanceId: this entry applies to ACR hosts, and each names its own region, which regionId would contradict (a host such as registry.cn-hangzhou.aliyuncs.com keeps cn-hangzhou); remove regionId, or list the custom domains it is the region of in domains",
				r.RegionID))
		}
		for _, d := range r.Domains {
			if reg, err := acr.Parse(d); err == nil && reg.Region != "" && r.RegionID != "" && reg.Region != r.RegionID {
				return fileError(path, nodes[i], name+".regionId", fmt.Sprintf(
					"%s contradicts domain %s, which names region %s: a host that names its region keeps it; fix regionId, or move %s to an entry of its own",
					r.RegionID, d, reg.Region, d))
			}
			if j, dup := owner[d]; dup && j != i { // within one entry (docker.io and its aliases) a repeat is harmless
				return fileError(path, nodes[i], name+".domains", fmt.Sprintf(
					"%s is also listed by %s[%d] (%s): list each domain in one entry, so that which region and roles apply is not a matter of order",
					d, key, j, regs[j].Where()))
			}
			owner[d] = i
		}
	}
	return nil
}
