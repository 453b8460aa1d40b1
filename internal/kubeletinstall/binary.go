package kubeletinstall

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The binary in the plugin directory. A binary there that the installer did not put there (a
// package install, an image's) is replaced only when it is an older docker-credential-acr:
// "newer" is decided by the versions the binaries report (`version`: "docker-credential-acr
// (...) vMAJOR.MINOR.PATCH[-PRERELEASE] commit ..."), compared as semantic versions. A binary
// whose version cannot be read (another program, a development build) is left alone unless
// --replace-binary says otherwise, and so is one whose version is equal or newer.

var reVersion = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^docker-credential-acr \([^)]*\) (v?[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)(?:\+[0-9A-Za-z.-]+)? `)
})

// binaryVersion runs path version (host path) and returns the version it reports, "" when it
// reports none that can be compared.
func binaryVersion(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return ""
	}
	return parseVersion(out.String())
}

// parseVersion is the semantic version in the `version` output, "" when there is none.
func parseVersion(out string) string {
	m := reVersion().FindStringSubmatch(strings.TrimSpace(out) + " ")
	if m == nil {
		return ""
	}
	return strings.TrimPrefix(m[1], "v")
}

// compareVersions compares semantic versions a and b (without "v"): -1, 0 or 1. Pre-releases
// come before their release and compare by their dot-separated identifiers.
func compareVersions(a, b string) int {
	ac, apre, _ := strings.Cut(a, "-")
	bc, bpre, _ := strings.Cut(b, "-")
	as, bs := strings.Split(ac, "."), strings.Split(bc, ".")
	for i := 0; i < 3; i++ {
		if c := compareNumeric(as[i], bs[i]); c != 0 {
			return c
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	}
	ap, bp := strings.Split(apre, "."), strings.Split(bpre, ".")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		an, aErr := strconv.ParseUint(ap[i], 10, 64)
		bn, bErr := strconv.ParseUint(bp[i], 10, 64)
		switch {
		case aErr == nil && bErr == nil:
			if an != bn {
				return cmpInt(an, bn)
			}
		case aErr == nil:
			return -1
		case bErr == nil:
			return 1
		default:
			if c := strings.Compare(ap[i], bp[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(uint64(len(ap)), uint64(len(bp)))
}

func compareNumeric(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmpInt(uint64(len(a)), uint64(len(b)))
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
