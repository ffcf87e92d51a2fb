package cluster

import (
	"context"
	"sync"
)

// Single is the one process of a store nobody else opens (a bbolt file): it
// always leads, nobody departs, and a nudge reaches only its own
// subscribers, at once.
func Single() Member { return &single{subs: map[string][]func(string){}} }

type single struct {
	mu   sync.Mutex
	subs map[string][]func(string)
}

func (*single) ID() string     { return "" }
func (*single) IsLeader() bool { return true }

func (*single) Lead(ctx context.Context, name string, fn func(ctx context.Context)) {
	checkLead(name, fn)
	fn(ctx)
	<-ctx.Done() // it leads until ctx ends: fn is not run twice
}

func (*single) Departed(context.Context) ([]string, error) { return nil, nil }
func (*single) Forget(context.Context, string) error       { return nil }
func (*single) Close() error                               { return nil }

func (s *single) Publish(topic, payload string) {
	mustTopic(topic)
	if checkPayload(payload) != nil {
		return // as Join's would be: one process behaves as several do
	}
	s.mu.Lock()
	subs := append([]func(string){}, s.subs[topic]...)
	s.mu.Unlock()
	for _, fn := range subs {
		fn(payload)
	}
}

func (s *single) Subscribe(topic string, fn func(string)) {
	checkSubscribe(topic, fn)
	s.mu.Lock()
	s.subs[topic] = append(s.subs[topic], fn)
	s.mu.Unlock()
}
