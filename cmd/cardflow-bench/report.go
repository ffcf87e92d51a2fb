package main

import (
	"fmt"
	"strings"
	"time"
)

// failed says whether the run broke a promise: an order refused, not
// delivered, left open, or a health or metrics check that failed.
func (r benchReport) failed(o benchOptions) bool {
	delivering := o.target == "" || o.callbackListen != ""
	return r.Rejected > 0 || (delivering && r.DeliveryIncomplete) || len(r.probes.Errors) > 0 ||
		(r.polls != nil && len(r.polls.Errors) > 0) ||
		r.metricsError != nil || (delivering && r.openAfter > 0)
}

// pace says how fast the run sent its orders.
func (o benchOptions) pace() string {
	if o.rate > 0 {
		return fmt.Sprintf("at %.0f/s", o.rate)
	}
	return "as fast as possible"
}

func (r benchReport) print(o benchOptions) {
	mode := o.pace()
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	what := "from " + o.source
	if o.target != "" {
		what = "to " + o.target
	}
	fmt.Printf("cardflow bench: %d orders %s, %d connections, %s, %s, storefront protocol %s\n", o.orders, what, o.concurrency, mode, r.storePhrase(o), o.protocol)
	fmt.Printf("  intake     %8.0f accepted/s   p50 %-9v p95 %-9v p99 %-9v (rejected %d)\n",
		r.AcceptedPerSecond(), round(r.Intake.P50), round(r.Intake.P95), round(r.Intake.P99), r.Rejected)
	if r.sync {
		fmt.Printf("  end to end %8.0f delivered/s  (delivered %d of %d, keys in the answers)\n", r.DeliveredPerSecond(), r.Delivered, r.Accepted)
	} else if r.Delivered > 0 || r.DeliveryIncomplete {
		held := ""
		if r.protocol == protoDujiao {
			held = ", each held 2 s after its answer" // some shop releases overwrite an earlier callback
		}
		fmt.Printf("  end to end %8.0f delivered/s  p50 %-9v p95 %-9v p99 %-9v (delivered %d of %d, callbacks included%s)\n",
			r.DeliveredPerSecond(), round(r.EndToEnd.P50), round(r.EndToEnd.P95), round(r.EndToEnd.P99), r.Delivered, r.Accepted, held)
	}
	if m := r.mail; m != nil {
		m.print()
	}
	if p := r.polls; p != nil {
		fmt.Printf("  polls      GET /orders/{id} %d× p50 %-9v p99 %-9v max %v; GET /products page_size=%d of %d products %d× p50 %-9v p99 %-9v max %v; %d failed\n",
			p.NOrders, round(p.Orders.P50), round(p.Orders.P99), round(p.Orders.Max), p.PageSize, p.Total,
			p.NPages, round(p.Products.P50), round(p.Products.P99), round(p.Products.Max), len(p.Errors))
		for _, e := range p.Errors {
			fmt.Printf("    poll failed: %s\n", e)
		}
	}
	if c := r.ceiling; c.Writes > 0 {
		fmt.Printf("  ceiling    %8.0f writes/s through the group-commit writer alone (%d producers, 300-byte values, %.0f writes per commit, same disk, this run)\n",
			c.WritesPerSecond(), c.Producers, float64(c.Writes)/float64(max(c.Commits, 1)))
	}
	if d := r.db; d != nil && d.ceiling.commits > 0 {
		fmt.Printf("  ceiling    %8.0f commits/s one after another on one connection (a 300-byte row each, each waiting for its WAL flush: what writers that take turns get at most, this server, this run)\n",
			d.ceiling.perSecond())
	}
	if f := r.floor; f.Exchanges > 0 {
		// Two exchanges per order: the order in, its callback out.
		fmt.Printf("  http floor %8.0f bare exchanges/s over loopback (%d connections, %v of CPU each, this process alone, this run); at two per order intake ran at %.0f%% of %.0f orders/s\n",
			f.PerSecond(), f.Connections, f.CPUPerExchange().Round(time.Microsecond), 100*r.AcceptedPerSecond()/(f.PerSecond()/2), f.PerSecond()/2)
	}
	if r.Accepted > 0 && r.writes > 0 {
		// An intake write puts a dozen keys (order, indexes, stock, fingerprints,
		// outbox, buyer log), not one 300-byte value, so the yardstick is the
		// ceiling divided by five, the durable writes of an order's life
		// (docs/performance.md).
		line := fmt.Sprintf("  store      %.1f durable writes and %.2f commits per order", r.writes/float64(r.Accepted), r.commits/float64(r.Accepted))
		if c := r.ceiling; c.Writes > 0 {
			at := c.WritesPerSecond() / 5
			line += fmt.Sprintf("; the ceiling carries %.0f orders/s of 5 writes each: intake ran at %.0f%% of it", at, 100*r.AcceptedPerSecond()/at)
		}
		if d := r.db; d != nil && d.ceiling.commits > 0 && r.loadDuration() > 0 {
			// The writers of all processes take turns: their commits a
			// second are bounded by the ceiling's.
			at := r.commits / r.loadDuration().Seconds()
			line += fmt.Sprintf("; %.0f commits/s during the load, %.0f%% of the ceiling", at, 100*at/d.ceiling.perSecond())
		}
		if r.commits > 0 && r.commitTime > 0 && r.loadDuration() > 0 {
			// A writer that never waits for work (busy near 100% per
			// process) takes each order's share of a commit in turn: that
			// share bounds the orders a second. It counts from the start
			// of each transaction, waits for PostgreSQL's lock included.
			line += fmt.Sprintf("; writer busy %.0f%% of the load, %v per commit, %v per order",
				100*r.commitTime.Seconds()/r.loadDuration().Seconds(), (r.commitTime / time.Duration(r.commits)).Round(10*time.Microsecond),
				(r.commitTime / time.Duration(r.Accepted)).Round(time.Microsecond))
		}
		fmt.Println(line)
	}
	if r.storeSize > 0 && r.Accepted > 0 {
		what := "stock included"
		if r.db != nil {
			what = "the database's tables and indexes, stock included, the WAL aside"
		}
		fmt.Printf("  disk       %d bytes, %.0f bytes per order (%s)\n", r.storeSize, float64(r.storeSize)/float64(r.Accepted), what)
	}
	if d := r.db; d != nil {
		d.print(r)
	}
	if len(r.processes) > 1 {
		var parts []string
		for _, p := range r.processes {
			per := time.Duration(0)
			if p.accepted > 0 {
				per = (p.cpu / time.Duration(p.accepted)).Round(time.Microsecond)
			}
			parts = append(parts, fmt.Sprintf("%d accepted, %v CPU per order", p.accepted, per))
		}
		fmt.Printf("  processes  %d on one database, orders sent round robin: %s\n", len(r.processes), strings.Join(parts, "; "))
	}
	if r.peakRSS > 0 {
		during := "; after the load"
		if r.importRSS > 0 {
			during = fmt.Sprintf(" during the load (%.1f MB while importing %d card keys before it); after the load",
				float64(r.importRSS)/(1<<20), r.imported)
		}
		fmt.Printf("  service    peak RSS %.1f MB%s %v\n", float64(r.peakRSS)/(1<<20), during, r.endRSS)
	}
	if r.Accepted > 0 && r.serviceCPU > 0 {
		db := ""
		if r.db != nil && r.db.serverCPU > 0 {
			db = fmt.Sprintf(", database server %v per order", (r.db.serverCPU / time.Duration(r.Accepted)).Round(time.Microsecond))
		}
		fmt.Printf("  cpu        service %v per order%s, bench process %v per order (of 2 cores shared)\n",
			r.cpuPerOrder(), db, (r.benchCPU / time.Duration(r.Accepted)).Round(time.Microsecond))
	}
	p := r.probes
	fmt.Printf("  probes     /readyz %d× p50 %v max %v; /metrics %d× p50 %v max %v; %d failed\n",
		p.Readyz.N, round(p.Readyz.P50), round(p.Readyz.Max), p.Metrics.N, round(p.Metrics.P50), round(p.Metrics.Max), len(p.Errors))
	for _, e := range p.Errors {
		fmt.Printf("    probe failed: %s\n", e)
	}
	if r.metricsError != nil {
		fmt.Printf("  /metrics after the load failed: %v\n", r.metricsError)
	} else if r.openAfter > 0 {
		fmt.Printf("  %0.f orders still open after the load\n", r.openAfter)
	}
	if r.restartTook > 0 {
		fmt.Printf("  restart    stopped in %v, ready again in %v with %.0f orders stored, first order accepted after %v, RSS %v\n",
			r.stopTook.Round(time.Millisecond), r.restartTook.Round(time.Millisecond), r.stored,
			r.firstOrder.Round(time.Millisecond), r.restartRSS)
	}
	if r.FirstError != nil {
		fmt.Printf("  first error: %v\n", r.FirstError)
	}
}

// Targets of the docking protocols beside the native API.
const (
	targetRatio   = 0.70                  // accepted/s as a share of the native API's
	targetPollP99 = 10 * time.Millisecond // a Dujiao-Next shop's poll and product sync
)

// printSummary sets each protocol's intake beside the native API's of the
// same run, and the Dujiao-Next polls beside their target. Sent as fast as
// possible, the orders take every core, and a poll waits its turn for one
// as long as an order does; at a steady rate (-rate) it is answered at
// once.
func printSummary(reports []benchReport, o benchOptions) {
	var native float64
	for _, r := range reports {
		if r.protocol == protoNative {
			native = r.AcceptedPerSecond()
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "misses"
	}
	fmt.Printf("summary: accepted/s as a share of the native API's (target ≥ %.2f); poll and product sync p99 while the orders flow %s (target < %v)\n",
		targetRatio, o.pace(), targetPollP99)
	for _, r := range reports {
		line := fmt.Sprintf("  %-12s %8.0f accepted/s", r.protocol, r.AcceptedPerSecond())
		if native > 0 {
			ratio := r.AcceptedPerSecond() / native
			line += fmt.Sprintf("  %.2f of native", ratio)
			if r.protocol != protoNative {
				line += " (" + verdict(ratio >= targetRatio) + " the target)"
			}
		}
		if p := r.polls; p != nil {
			line += fmt.Sprintf("; poll p99 %v (%s), product sync p99 %v (%s)",
				p.Orders.P99.Round(10*time.Microsecond), verdict(p.NOrders > 0 && p.Orders.P99 < targetPollP99),
				p.Products.P99.Round(10*time.Microsecond), verdict(p.NPages > 0 && p.Products.P99 < targetPollP99))
		}
		fmt.Println(line)
	}
}

// storePhrase says where the run kept its state, and whether its writes
// were durable.
func (r benchReport) storePhrase(o benchOptions) string {
	switch {
	case o.target != "":
		return "durable writes"
	case r.db == nil:
		return "bbolt, durable writes"
	}
	durable := "durable writes"
	if !r.db.settings.durable() {
		durable = "NOT durable writes (fsync " + r.db.settings.fsync + ", synchronous_commit " + r.db.settings.synchronousCommit + ")"
	}
	n := "1 process"
	if o.processes > 1 {
		n = fmt.Sprintf("%d processes on one database", o.processes)
	}
	return "PostgreSQL, " + n + ", " + durable
}

// loadDuration is how long the load took, its deliveries included.
func (r benchReport) loadDuration() time.Duration { return max(r.IntakeDuration, r.DeliveredDuration) }

// print writes what the database spent during the load.
func (d *dbReport) print(r benchReport) {
	fmt.Printf("  database   %s: %s\n", d.name, d.settings)
	n := float64(max(r.Accepted, 1))
	wal, xids, syncs := d.after.walBytes-d.before.walBytes, d.after.xids-d.before.xids, d.after.walSyncs-d.before.walSyncs
	cpu := "its CPU not counted (not on this machine, or its data directory not readable)"
	if d.serverCPU > 0 {
		cpu = fmt.Sprintf("its processes' CPU %v per order", (d.serverCPU / time.Duration(max(r.Accepted, 1))).Round(time.Microsecond))
	}
	fmt.Printf("  server     per order %.2f write transactions, %.0f bytes of WAL, %.3f WAL flushes (counted over the whole server); %s\n",
		float64(xids)/n, float64(wal)/n, float64(syncs)/n, cpu)
	fmt.Printf("  sessions   %v\n", d.waits)
}
