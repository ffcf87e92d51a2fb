package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/go-telegram/bot/models"

	"cardflow/internal/outbound"
)

// push delivers pending updates to the webhook, in order, while one is set.
func (s *Server) push() {
	defer s.pusher.Done()
	client := outbound.New(outbound.Options{Timeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closed
		cancel()
	}()
	for {
		s.mu.Lock()
		hook, key, changed := s.hookURL, s.hookKey, s.changed
		var next *models.Update
		if hook != "" && len(s.pending) > 0 {
			u := s.pending[0]
			next = &u
		}
		s.mu.Unlock()
		if next == nil {
			select {
			case <-changed:
				continue
			case <-s.closed:
				return
			}
		}
		if s.post(ctx, client, hook, key, next) {
			s.mu.Lock()
			if len(s.pending) > 0 && s.pending[0].ID == next.ID {
				s.pending = s.pending[1:]
				s.pushed++
			}
			s.mu.Unlock()
			continue
		}
		retry := time.NewTimer(20 * time.Millisecond) // Telegram retries too, more slowly
		select {
		case <-retry.C:
		case <-changed:
			retry.Stop()
		case <-s.closed:
			retry.Stop()
			return
		}
	}
}

func (s *Server) post(ctx context.Context, client *http.Client, hook, key string, u *models.Update) bool {
	body, err := json.Marshal(u)
	if err != nil {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}
