package cluster

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// badInput checks what every Member refuses: a Lead without a function,
// and subscriptions and nudges to topics that are not ones (empty, upper
// case, with the ':' a nudge is split on, too long, the members' own
// "cluster.") or without a function.
func badInput(t *testing.T, m Member) {
	t.Helper()
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"Lead without a function", func() { m.Lead(context.Background(), "sweep", nil) }, "Lead sweep without a function"},
		{"Subscribe to an empty topic", func() { m.Subscribe("", func(string) {}) }, `topic "": want 1 to 64 bytes`},
		{"Subscribe to an upper-case topic", func() { m.Subscribe("Chat", func(string) {}) }, "want lower-case letters"},
		{"Subscribe to a topic with a colon", func() { m.Subscribe("chat:x", func(string) {}) }, "want lower-case letters"},
		{"Subscribe to a long topic", func() { m.Subscribe(strings.Repeat("a", 65), func(string) {}) }, "want 1 to 64 bytes"},
		{"Subscribe to a reserved topic", func() { m.Subscribe("cluster.left", func(string) {}) }, "reserved"},
		{"Subscribe without a function", func() { m.Subscribe("chat", nil) }, "Subscribe chat without a function"},
		{"Publish to an empty topic", func() { m.Publish("", "x") }, `topic "": want 1 to 64 bytes`},
		{"Publish to a topic with a space", func() { m.Publish("new chat", "x") }, "want lower-case letters"},
		{"Publish to a reserved topic", func() { m.Publish("cluster.left", "x") }, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tc.want) {
					t.Errorf("panic %v, want one saying %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

func TestSingleRefusesBadInput(t *testing.T) {
	badInput(t, Single())
}

func TestSingleAlwaysLeadsAndNobodyDeparts(t *testing.T) {
	s := Single()
	if s.ID() != "" || !s.IsLeader() {
		t.Fatalf("ID %q, IsLeader %v", s.ID(), s.IsLeader())
	}
	if d, err := s.Departed(context.Background()); err != nil || len(d) != 0 {
		t.Errorf("Departed = %v, %v", d, err)
	}
	if err := s.Forget(context.Background(), "anyone"); err != nil {
		t.Errorf("Forget = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestSingleLeadRunsOnceUntilItsContextEnds(t *testing.T) {
	s := Single()
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan context.Context, 2)
	var ended atomic.Bool
	returned := make(chan bool)
	go func() {
		s.Lead(ctx, "early", func(ctx context.Context) { runs <- ctx }) // returns at once
		returned <- ended.Load()
	}()
	fnCtx := <-runs
	ended.Store(true)
	cancel()
	if !<-returned {
		t.Error("Lead returned before its context ended")
	}
	if fnCtx.Err() == nil {
		t.Error("the function's context is alive after Lead's ended")
	}
	if len(runs) != 0 {
		t.Error("the function ran twice")
	}
}

func TestSinglePublishReachesItsOwnSubscribersOfThatTopic(t *testing.T) {
	s := Single()
	var chat, chat2, stock []string
	s.Subscribe("chat", func(p string) { chat = append(chat, p) })
	s.Subscribe("chat", func(p string) { chat2 = append(chat2, p) })
	s.Subscribe("stock", func(p string) { stock = append(stock, p) })
	s.Publish("chat", "")
	s.Publish("stock", "qb-10")
	s.Publish("nobody", "x")
	// A payload no PostgreSQL notification could carry is dropped here too.
	s.Publish("stock", strings.Repeat("a", MaxPayload+1))
	s.Publish("stock", "nul\x00")
	if len(chat) != 1 || len(chat2) != 1 || len(stock) != 1 || stock[0] != "qb-10" {
		t.Errorf("chat %q, chat again %q, stock %q", chat, chat2, stock)
	}
}
