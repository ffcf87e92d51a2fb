package processor

import (
	"fmt"
	"time"

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

// CheckBacklog raises the backlog alert when the outbox holds too many
// events or too old ones, and resolves it when it has drained.
func (e *Engine) CheckBacklog() {
	n, oldest := e.outbox.backlog(), e.outbox.oldest()
	growing := n > backlogEvents || (!oldest.IsZero() && e.now().Sub(oldest) > backlogAge)
	err := e.RaiseAlert(storage.Alert{Key: AlertBacklog + ":outbox", Type: AlertBacklog, Target: "outbox", Count: n,
		Resolved: !growing, Detail: fmt.Sprintf("%d events", n)})
	if err != nil {
		e.log.Error().Err(err).Msg("backlog alert")
	}
}
