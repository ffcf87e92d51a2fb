package outbox

import (
	"fmt"
	"time"

	"cardflow/alert"
	"cardflow/storage"
)

// Backlog thresholds: side effects piling up mean a receiver (a storefront,
// a chat) is down or cardflow cannot keep up; operators should hear of it
// before buyers do.
const (
	backlogEvents = 1000
	backlogAge    = 10 * time.Minute
	backlogEvery  = 30 * time.Second
)

// checkBacklog raises the backlog alert when the outbox holds too many
// events or too old ones, and resolves it when it has drained.
func (d *Outbox) checkBacklog() {
	n, oldest := d.Backlog(), d.oldest()
	growing := n > backlogEvents || (!oldest.IsZero() && d.now().Sub(oldest) > backlogAge)
	err := d.raise(storage.Alert{Key: string(alert.Backlog) + ":outbox", Type: alert.Backlog, Target: "outbox", Count: n,
		Resolved: !growing, Detail: fmt.Sprintf("%d events", n)})
	if err != nil {
		d.log.Error().Err(err).Msg("backlog alert")
	}
}
