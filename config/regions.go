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
// the hosts that do not name one (the custom domains it lists) or, on an entry with neither domains
// nor instanceId, the region whose Personal Edition hosts the entry is for (the ACK add-on's
// Personal Edition entry: instanceID left empty, regionID set); such an entry applies to no other
// host. A config in which regionId could only contradict a host, or in which which entry applies
// would be a matter of order, is refused, with the entries and why:
//   - regionId on an entry that lists an ACR default domain naming another region;
//   - a domain listed by two entries;
//   - two Personal Edition entries for one region.
// An instanceId entry's regionId must match the region its instance's default domains name; the
// keychain checks that when it sees the host.

func checkRegions(path, key string, regs []Registry, nodes []*yaml.Node) error {
	owner, personal := map[string]int{}, map[string]int{}
	for i := range regs {
		r := &regs[i]
		name := fmt.Sprintf("%s[%d]", key, i)
		if r.PersonalRegion() != "" {
			if j, dup := personal[r.RegionID]; dup {
				return fileError(path, nodes[i], name+".regionId", fmt.Sprintf(
					"%s[%d] (%s) is already the entry for the Personal Edition hosts of %s: keep one entry per region", key, j, regs[j].Where(), r.RegionID))
			}
			personal[r.RegionID] = i
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
