// Command cardflow is the order-processing back office of a digital-goods
// shop. See the README for the subcommands.
package main

import (
	"fmt"
	"os"

	_ "time/tzdata" // Asia/Shanghai on machines without zone files (distroless images)

	"cardflow/internal/gctune"
)

const usage = `cardflow — order processing for digital-goods shops

Usage:
  cardflow demo                               run everything locally with simulated shop data
  cardflow serve -config PATH                 run the service
  cardflow check -config PATH                 validate a config file
  cardflow keygen                             print a new random master key
  cardflow migrate -config PATH               apply the PostgreSQL schema of [storage] ahead of an upgrade
  cardflow migrate -config PATH -from-bbolt FILE
                                              copy a stopped bbolt store into the empty PostgreSQL database
  cardflow stock import -sku SKU [flags] FILE import card keys through the admin API
  cardflow bench [-orders N] [-rate R]        measure intake and delivery throughput on loopback
  cardflow version                            print version and build info
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		gctune.Apply()
		return cmdDemo(args[1:])
	case "serve":
		gctune.Apply()
		return cmdServe(args[1:])
	case "check":
		return cmdCheck(args[1:])
	case "keygen":
		return cmdKeygen(args[1:])
	case "migrate":
		return cmdMigrate(args[1:])
	case "stock":
		return cmdStock(args[1:])
	case "bench":
		return cmdBench(args[1:])
	case "version", "-version", "--version":
		return cmdVersion()
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "cardflow: unknown command %q\n\n%s", args[0], usage)
	return 2
}
