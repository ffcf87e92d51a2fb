package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// cmdVersion prints the build: version, Go, platform and the VCS revision.
func cmdVersion() int {
	fmt.Printf("cardflow %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified":
				fmt.Printf("%s=%s\n", s.Key, s.Value)
			}
		}
	}
	return 0
}
