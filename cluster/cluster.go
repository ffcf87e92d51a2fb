// Package cluster is what the cardflow processes that share one store know
// of each other: who is alive, which one leads (runs the work there must be
// one of: the chat senders and pollers, the daily report, supplier balance
// checks, the takeover of a departed process's work), and a way to nudge
// every one of them to look at the store again (new chat messages, stock
// arrived). On a bbolt file there is one process: Single. On PostgreSQL,
// Join.
package cluster

import "context"

// Member is this process's place among the processes sharing the store.
type Member interface {
	// ID names this process for as long as it runs (a new one at every
	// start). Work it owns in the store is marked with it.
	ID() string
	// IsLeader reports whether this process leads now.
	IsLeader() bool
	// Lead runs fn each time this process becomes the leader, with a
	// context that ends as soon as it stops being the leader (or ctx ends),
	// and returns once ctx ends and fn has returned. fn should return when
	// its context ends.
	Lead(ctx context.Context, name string, fn func(ctx context.Context))
	// Departed lists the processes that joined and are no longer alive:
	// the leader takes their work over, then calls Forget.
	Departed(ctx context.Context) ([]string, error)
	// Forget removes a departed process from the list.
	Forget(ctx context.Context, id string) error
	// Publish nudges every member, this one included, about topic (with an
	// optional payload, such as a SKU). It is a hint to look at the store
	// again, best effort: a nudge may be lost or merged with another, so a
	// subscriber also looks now and then on its own.
	Publish(topic, payload string)
	// Subscribe has fn called for every nudge about topic; fn must not block.
	Subscribe(topic string, fn func(payload string))
	// Close leaves the cluster: another process takes the lead at once.
	Close() error
}
