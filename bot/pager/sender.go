package pager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/internal/periodic"
	"cardflow/storage"
)

// Sender delivers one chat's queued messages through its chat.Channel, within the
// platform's limits: at most PerMinute messages a minute; a burst that piles
// up in between goes out as one digest ("12 笔订单待审核", the first few as
// buttons, then a pointer to /pending) rather than being dropped or
// trickled out over an hour. A 429 is waited out; any other failure is
// retried with backoff. Messages leave the queue only once the platform has
// them. A chat that takes nothing for long keeps at most
// storage.MaxChatQueue of them: the store folds the oldest into one summary
// (what may be folded, and why nothing is lost, is in storage/chat.go),
// whose text the Sender writes when it goes out.
type Sender struct {
	writer    Writer
	photo     func(from, to time.Time) *chat.Photo
	store     *storage.Store
	dest      string // queue name, e.g. "telegram:-1001234"
	chat      string // the chat id the channel knows
	ch        chat.Channel
	limit     *rate.Limiter
	groupWait time.Duration
	nextBatch string
	look      time.Duration
	wake      chan struct{}
	log       zerolog.Logger
	sleep     func(ctx context.Context, d time.Duration) error
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	Dest, Chat string
	Channel    chat.Channel
	PerMinute  int           // 0: no limit (the console)
	GroupWait  time.Duration // gather a burst this long after the previous message
	// NextBatch, if set, is the data of a "next batch" button added to a
	// digest that leaves messages queued (QQ: pressing it opens a reply
	// window for the rest).
	NextBatch string
	// Photo draws the chart of a queued daily report (daily.Writer.Photo);
	// nil: reports go without.
	Photo func(from, to time.Time) *chat.Photo
	// Look is how long an idle sender waits for a Kick before it looks at
	// its queue on its own, for a kick that may be lost on its way between
	// processes; 0: a minute.
	Look time.Duration
	Log  zerolog.Logger
}

// NewSender builds the sender of one destination.
func NewSender(w Writer, store *storage.Store, o SenderOptions) *Sender {
	lim := rate.NewLimiter(rate.Inf, 1)
	if o.PerMinute > 0 {
		lim = rate.NewLimiter(rate.Every(time.Minute/time.Duration(o.PerMinute)), 1)
	}
	if o.Look <= 0 {
		o.Look = time.Minute
	}
	return &Sender{writer: w, photo: o.Photo, store: store, dest: o.Dest, chat: o.Chat, ch: o.Channel, limit: lim, groupWait: o.GroupWait, nextBatch: o.NextBatch,
		look: o.Look, wake: make(chan struct{}, 1), log: o.Log.With().Str("dest", o.Dest).Logger(), sleep: periodic.Sleep}
}

// Kick tells the sender there is something new.
func (s *Sender) Kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// maxBatch is how many queued messages one digest may cover.
const maxBatch = 500

// Run delivers until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	var lastSent time.Time
	failures := 0
	for ctx.Err() == nil {
		msgs, err := s.pending()
		if err != nil {
			s.log.Error().Err(err).Msg("read chat queue")
			_ = s.sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(s.look):
			}
			continue
		}
		// Right after a message, let a burst gather for group_wait.
		if wait := s.groupWait - time.Since(lastSent); len(msgs) > 1 && wait > 0 {
			_ = s.sleep(ctx, wait)
			continue
		}
		waited, err := s.waitTurn(ctx)
		if err != nil {
			return
		}
		if waited {
			// What piled up meanwhile goes out with them: a burst becomes
			// one digest, not its first message alone and then the rest.
			if more, err := s.pending(); err == nil && len(more) > 0 {
				msgs = more
			}
		}
		err = s.deliver(msgs)
		var rl *chat.RateLimitError
		switch {
		case errors.Is(err, chat.ErrNoWindow):
			select { // until an operator opens a window (Kick), or a minute for an active push
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(time.Minute):
			}
		case errors.As(err, &rl):
			s.log.Warn().Dur("retry_after", rl.RetryAfter).Int("queued", len(msgs)).Msg("chat rate limited")
			_ = s.sleep(ctx, rl.RetryAfter)
		case err != nil:
			failures++
			d := min(time.Second<<min(failures, 9), 5*time.Minute)
			s.log.Warn().Err(err).Dur("retry_in", d).Int("queued", len(msgs)).Msg("chat send failed")
			_ = s.sleep(ctx, d)
		default:
			failures = 0
			lastSent = time.Now()
		}
	}
}

// pending reads what waits in the chat's queue, oldest first, at most
// maxBatch.
func (s *Sender) pending() ([]storage.ChatMessage, error) {
	var msgs []storage.ChatMessage
	err := s.store.View(func(tx *storage.Tx) error {
		var err error
		msgs, err = tx.Chat().Pending(s.dest, maxBatch)
		return err
	})
	return msgs, err
}

// waitTurn waits until the rate limit lets one more message out, and says
// whether it had to wait.
func (s *Sender) waitTurn(ctx context.Context) (bool, error) {
	r := s.limit.Reserve()
	d := r.Delay()
	if d <= 0 {
		return false, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.Cancel()
		return false, ctx.Err()
	case <-t.C:
		return true, nil
	}
}

// deliver sends one message or one digest for the queued messages and takes
// what went out off the queue.
func (s *Sender) deliver(msgs []storage.ChatMessage) error {
	for i := range msgs {
		if msgs[i].Folded > 0 { // the store folded an overfull queue (storage.MaxChatQueue)
			msgs[i].Text = chat.T(s.writer.Lang(), "chat_folded", msgs[i].Folded)
		}
	}
	// A report goes alone, with its chart, and so does an after-sale
	// claim's prompt, whose buttons a digest would drop; a digest stops
	// short of either.
	for i, m := range msgs {
		if !m.ChartFrom.IsZero() || m.AlertType == alert.Claim && !m.Resolved {
			msgs = msgs[:max(i, 1)]
			break
		}
	}
	if len(msgs) == 1 {
		return s.deliverOne(msgs[0])
	}
	r, n := digest(s.writer, msgs)
	if n < len(msgs) && s.nextBatch != "" {
		r.Buttons = append(r.Buttons, chat.Button{Label: chat.T(s.writer.Lang(), "btn_next_batch"), Data: s.nextBatch})
	}
	if _, err := s.ch.Send(s.chat, r); err != nil {
		return err
	}
	seqs := make([]uint64, n)
	for i := range n {
		seqs[i] = msgs[i].Seq
	}
	return s.store.Update(func(tx *storage.Tx) error { return tx.Chat().Ack(s.dest, seqs) })
}

// deliverOne sends one message, editing the original of a resolved alert
// where it can, and remembers where an alert went so its resolution can.
func (s *Sender) deliverOne(m storage.ChatMessage) error {
	r := chat.Reply{Text: m.Text, Buttons: fromChatButtons(m.Buttons)}
	if !m.ChartFrom.IsZero() && s.photo != nil {
		r.Photo = s.photo(m.ChartFrom, m.ChartTo)
	}
	var original string
	if m.Resolved && m.AlertKey != "" {
		_ = s.store.View(func(tx *storage.Tx) error {
			st, err := tx.Alerts().State(m.AlertKey)
			original = st.Messages[s.dest]
			return err
		})
	}
	var id string
	var err error
	if original != "" {
		err = s.ch.Edit(s.chat, original, r)
		if errors.Is(err, chat.ErrGone) {
			original = ""
		}
	}
	if original == "" {
		id, err = s.ch.Send(s.chat, r)
	}
	if err != nil {
		return err
	}
	return s.store.Update(func(tx *storage.Tx) error {
		if m.AlertKey != "" {
			st, err := tx.Alerts().State(m.AlertKey)
			if err != nil {
				return err
			}
			if st.Messages == nil {
				st.Messages = map[string]string{}
			}
			if m.Resolved {
				delete(st.Messages, s.dest)
			} else if id != "" {
				st.Messages[s.dest] = id
			}
			if err := tx.Alerts().PutState(st); err != nil {
				return err
			}
		}
		return tx.Chat().Ack(s.dest, []uint64{m.Seq})
	})
}

// digestLines bounds a digest's length: phones, and Telegram's 4096
// characters.
const (
	digestLines   = 12
	digestButtons = 4
	digestChars   = 3500
)

// digest folds queued messages into one: review prompts are counted ("12 笔
// 订单待审核") with the first few as buttons and a pointer to /pending, other
// alerts are listed one line each. It returns how many messages it covers
// (all of them unless they would not fit).
func digest(w Writer, msgs []storage.ChatMessage) (chat.Reply, int) {
	lang := w.Lang()
	var reviews, others []storage.ChatMessage
	n := 0
	size := 0
	for _, m := range msgs {
		line := firstLine(m.Text)
		if size+len(line) > digestChars && n > 0 {
			break
		}
		size += len(line) + 1
		n++
		if m.AlertType == alert.Review && !m.Resolved {
			reviews = append(reviews, m)
		} else {
			others = append(others, m)
		}
	}
	var lines []string
	var buttons []chat.Button
	if len(reviews) > 0 {
		lines = append(lines, chat.T(lang, "digest_reviews", len(reviews)))
		for i, m := range reviews {
			if i < digestLines {
				lines = append(lines, "  "+strings.TrimPrefix(firstLine(m.Text), "🔍 "))
			}
			if i < digestButtons && m.OrderID > 0 {
				b := w.ApproveButton(m.OrderID)
				b.Label = fmt.Sprintf("%s #%d", b.Label, m.OrderID)
				buttons = append(buttons, b)
			}
		}
		if len(reviews) > digestLines {
			lines = append(lines, chat.T(lang, "digest_more", len(reviews)-digestLines))
		}
		lines = append(lines, chat.T(lang, "digest_pending"))
	}
	if len(others) > 0 {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, chat.T(lang, "digest_alerts", len(others)))
		for i, m := range others {
			if i == digestLines {
				lines = append(lines, chat.T(lang, "digest_more", len(others)-digestLines))
				break
			}
			lines = append(lines, "  "+firstLine(m.Text))
		}
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}, n
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
