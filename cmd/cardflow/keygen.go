package main

import (
	"fmt"
	"os"

	"cardflow/config"
)

// cmdKeygen prints a new master key for [security] master_key.
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
