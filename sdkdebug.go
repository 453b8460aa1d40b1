package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// sdkDebugFlags are the DEBUG words with which the Alibaba Cloud SDKs print every request and
// response, security tokens included. They read DEBUG while the packages initialise, before main
// runs, so the only way to keep secrets out of the output is to start again without them.
var sdkDebugFlags = map[string]bool{"tea": true, "dara": true, "credential": true, "sdk": true}

func dropSDKDebug() {
	v, ok := os.LookupEnv("DEBUG")
	if !ok {
		return
	}
	var keep []string
	dropped := false
	for _, w := range strings.Split(v, ",") {
		if sdkDebugFlags[strings.TrimSpace(w)] {
			dropped = true
			continue
		}
		keep = append(keep, w)
	}
	if !dropped {
		return
	}
	if len(keep) == 0 {
		os.Unsetenv("DEBUG")
	} else {
		os.Setenv("DEBUG", strings.Join(keep, ","))
	}
	exe, err := os.Executable()
	if err != nil {
		os.Exit(1)
	}
	if runtime.GOOS != "windows" {
		err = syscall.Exec(exe, os.Args, os.Environ())
		os.Exit(1) // Exec only returns on failure
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		os.Exit(1)
	}
	os.Exit(0)
}
