//go:build !unix

package dockerconfig

import (
	"io/fs"
	"os"
)

// keepOwner: ownership is not carried over on this system (Windows files inherit the directory's ACL).
func keepOwner(*os.File, fs.FileInfo) error { return nil }

func syncDir(string) {}
