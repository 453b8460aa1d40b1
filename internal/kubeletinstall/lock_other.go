//go:build !unix

package kubeletinstall

import "time"

var lockWait = 2 * time.Minute

func lockRoot(string) (func(), error) { return func() {}, nil }
