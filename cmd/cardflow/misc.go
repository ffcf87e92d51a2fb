package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"cardflow/config"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func cmdKeygen(args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, "cardflow keygen takes no arguments")
		return 2
	}
	key, err := config.GenerateMasterKey()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow keygen: %v\n", err)
		return 1
	}
	fmt.Println(key)
	return 0
}

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
