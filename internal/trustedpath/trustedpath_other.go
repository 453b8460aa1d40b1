//go:build !unix

package trustedpath

import (
	"os"
	"path/filepath"
)

// resolve: no Unix ownership here (Windows files inherit their directory's ACL).
func resolve(path string, _ []int) (string, bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false, err
	}
	_, err = os.Stat(abs)
	return abs, err == nil, nil
}
