// Package cluster is what the cardflow processes that share one store know
// of each other: who is alive, which one leads (runs the work there must be
// one of: the chat senders and pollers, the daily report, supplier balance
// checks, the takeover of a departed process's work), and a way to nudge
// every one of them to look at the store again (new chat messages, stock
// arrived). On a bbolt file there is one process: Single. On PostgreSQL,
// Join (docs/cluster.md).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

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
	// its context ends; returning earlier, it is not run again until the
	// next time this process becomes the leader. A nil fn panics.
	Lead(ctx context.Context, name string, fn func(ctx context.Context))
	// Departed lists the processes that joined and are no longer alive:
	// the leader takes their work over, then calls Forget.
	Departed(ctx context.Context) ([]string, error)
	// Forget removes a departed process from the list. A process found
	// alive again meanwhile is not removed: ErrAlive.
	Forget(ctx context.Context, id string) error
	// Publish nudges every member, this one included, about topic (with an
	// optional payload, such as a SKU). It is a hint to look at the store
	// again, best effort: a nudge may be lost or merged with another, so a
	// subscriber also looks now and then on its own. It never waits on the
	// network. A topic that is not a Topic panics; a payload that is not
	// text of at most MaxPayload bytes is dropped.
	Publish(topic, payload string)
	// Subscribe has fn called for every nudge about topic; fn must not block.
	// A topic that is not a Topic, or a nil fn, panics.
	Subscribe(topic string, fn func(payload string))
	// Close leaves the cluster: another process takes the lead at once.
	Close() error
}

// ErrAlive is Forget's answer for a process that is alive again.
var ErrAlive = errors.New("cluster: the member is alive")

// MaxPayload bounds a nudge's payload in bytes: the nudge travels as one
// PostgreSQL notification, whose payload is under 8000 bytes.
const MaxPayload = 7000

// maxTopic bounds a topic's length.
const maxTopic = 64

// checkTopic says why topic cannot name nudges: topics are lower-case
// letters, digits, '_', '-' and '.', at most maxTopic bytes, so that one
// travels with its payload as "topic:payload"; those beginning "cluster."
// are the members' own.
func checkTopic(topic string) error {
	if topic == "" || len(topic) > maxTopic {
		return fmt.Errorf("cluster: topic %q: want 1 to %d bytes", topic, maxTopic)
	}
	if strings.HasPrefix(topic, "cluster.") {
		return fmt.Errorf("cluster: topic %q: topics beginning \"cluster.\" are reserved", topic)
	}
	for _, r := range topic {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("cluster: topic %q: want lower-case letters, digits, '_', '-' and '.'", topic)
		}
	}
	return nil
}

// checkPayload says why payload cannot travel: PostgreSQL's text holds no
// NUL byte and only valid UTF-8.
func checkPayload(payload string) error {
	switch {
	case len(payload) > MaxPayload:
		return fmt.Errorf("cluster: payload of %d bytes: at most %d", len(payload), MaxPayload)
	case !utf8.ValidString(payload):
		return errors.New("cluster: payload is not valid UTF-8")
	}
	for i := range len(payload) {
		if payload[i] == 0 {
			return errors.New("cluster: payload holds a NUL byte")
		}
	}
	return nil
}

// mustTopic panics on a topic that is not one: topics are constants of the
// code, and a wrong one is a mistake to find at once, not a nudge lost.
func mustTopic(topic string) {
	if err := checkTopic(topic); err != nil {
		panic(err.Error())
	}
}

// checkSubscribe panics on a subscription that cannot be: a wrong topic,
// or no function to call.
func checkSubscribe(topic string, fn func(string)) {
	mustTopic(topic)
	if fn == nil {
		panic("cluster: Subscribe " + topic + " without a function")
	}
}

// checkLead panics on a Lead without a function.
func checkLead(name string, fn func(context.Context)) {
	if fn == nil {
		panic("cluster: Lead " + name + " without a function")
	}
}
