//go:build !unix

package kubeletinstall

import "io/fs"

func owner(fs.FileInfo) (int, int) { return -1, -1 }
