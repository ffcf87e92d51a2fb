package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Targets of PostgreSQL on a 2-core machine, durable writes.
const (
	targetPgAccepted  = 1500                  // orders a second accepted, one process
	targetPgDelivered = 1000                  // orders a second delivered, one process
	targetPgP99       = 50 * time.Millisecond // intake p99 at 500 orders a second
	targetPgP99Rate   = 500
	// steadyTolerance is the share of one process's steady delivered/s that
	// several processes sent the same orders on the same schedule must reach
	// to be not slower.
	steadyTolerance = 0.98
)

// benchStorages runs the load on bbolt, then on PostgreSQL with one
// process, then (with -processes N) with N processes on one database, each
// on a fresh store, and sets them side by side. The server is named or
// started here; a cluster started here is stopped however the runs end.
func benchStorages(ctx context.Context, o benchOptions) int {
	server, stop, err := databaseServer(ctx, o)
	defer stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	runs := []benchOptions{o, o}
	runs[0].pg, runs[0].processes = nil, 1
	runs[1].pg, runs[1].processes = server, 1
	if o.processes > 1 {
		runs = append(runs, o)
		runs[2].pg = server
	}
	var reports []benchReport
	code := 0
	for _, one := range runs {
		name := strings.NewReplacer("postgres ×1", "postgres", "postgres ×", "postgres-").Replace(one.storeName())
		if o.dir != "" {
			one.dir = filepath.Join(o.dir, name) // each store on a fresh data directory
		}
		if o.cpuProfile != "" {
			one.cpuProfile = o.cpuProfile + "." + name
		}
		rep, err := runBench(ctx, one)
		fmt.Fprintln(os.Stderr)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // interrupted: what the run measured is not a figure
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: %s: %v\n", one.storeName(), err)
			return 1
		}
		rep.print(one)
		if rep.failed(one) {
			code = 1
		}
		reports = append(reports, rep)
	}
	printStorageSummary(os.Stdout, reports, o, server.settings)
	return code
}

// printStorageSummary sets each PostgreSQL run beside the bbolt run (the
// first report) and, with several processes, beside the one-process run,
// and says which targets they meet. Figures from a server that does not
// flush its commits get no verdict.
func printStorageSummary(w io.Writer, reports []benchReport, o benchOptions, settings pgSettings) {
	fmt.Fprintf(w, "summary: PostgreSQL beside bbolt, %s, %s; ratios are postgres / bbolt\n", o.pace(), settings)
	fmt.Fprintf(w, "  targets with durable writes: one process ≥ %d accepted/s and ≥ %d delivered/s as fast as possible, "+
		"several processes not slower than one, intake p99 < %v at %d orders/s\n", targetPgAccepted, targetPgDelivered, targetPgP99, targetPgP99Rate)
	bolt, one := reports[0], reports[min(1, len(reports)-1)]
	ratio := func(a, b float64) string {
		if b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "misses"
	}
	for i, r := range reports {
		line := fmt.Sprintf("  %-12s %6.0f accepted/s %6.0f delivered/s  intake p50 %-9v p99 %-9v  service CPU %v per order",
			r.store, r.AcceptedPerSecond(), r.DeliveredPerSecond(), r.Intake.P50.Round(10*time.Microsecond),
			r.Intake.P99.Round(10*time.Microsecond), r.cpuPerOrder())
		if r.db != nil && r.db.serverCPU > 0 && r.Accepted > 0 {
			line += fmt.Sprintf(" + database %v", (r.db.serverCPU / time.Duration(r.Accepted)).Round(time.Microsecond))
		}
		if i == 0 {
			fmt.Fprintln(w, line)
			continue
		}
		line += fmt.Sprintf("; of bbolt: accepted %s, delivered %s, p50 %s, p99 %s, CPU %s",
			ratio(r.AcceptedPerSecond(), bolt.AcceptedPerSecond()), ratio(r.DeliveredPerSecond(), bolt.DeliveredPerSecond()),
			ratio(float64(r.Intake.P50), float64(bolt.Intake.P50)), ratio(float64(r.Intake.P99), float64(bolt.Intake.P99)),
			ratio(float64(r.cpuPerOrder()), float64(bolt.cpuPerOrder())))
		var verdicts []string
		if i > 1 {
			acc, del := r.AcceptedPerSecond()/max(one.AcceptedPerSecond(), 1e-9), r.DeliveredPerSecond()/max(one.DeliveredPerSecond(), 1e-9)
			line += fmt.Sprintf("; of one process: accepted %.2f, delivered %.2f", acc, del)
			if o.rate == 0 {
				verdicts = append(verdicts, "not slower than one: "+verdict(acc >= 1 && del >= 1))
			} else {
				// Both were sent the orders on the same schedule: the
				// processes are not slower if they delivered as many a
				// second once the run was under way (loadgen's Steady;
				// the window's edges move a delivery or two in a hundred).
				steady := r.Steady / max(one.Steady, 1e-9)
				line += fmt.Sprintf(", steady %.2f", steady)
				verdicts = append(verdicts, "not slower than one: "+verdict(steady >= steadyTolerance))
			}
		} else if o.rate == 0 {
			verdicts = append(verdicts, fmt.Sprintf("≥ %d accepted/s: %s", targetPgAccepted, verdict(r.AcceptedPerSecond() >= targetPgAccepted)),
				fmt.Sprintf("≥ %d delivered/s: %s", targetPgDelivered, verdict(r.DeliveredPerSecond() >= targetPgDelivered)))
		}
		if o.rate > 0 && o.rate <= targetPgP99Rate {
			verdicts = append(verdicts, fmt.Sprintf("p99 < %v: %s", targetPgP99, verdict(r.Intake.P99 < targetPgP99)))
		}
		switch {
		case !settings.durable():
			line += " (not durable: no verdict)"
		case len(verdicts) > 0:
			line += " (" + strings.Join(verdicts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// cpuPerOrder is the services' CPU per accepted order.
func (r benchReport) cpuPerOrder() time.Duration {
	if r.Accepted == 0 {
		return 0
	}
	return (r.serviceCPU / time.Duration(r.Accepted)).Round(time.Microsecond)
}
