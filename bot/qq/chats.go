package qq

import "time"

// What the adapter remembers per chat in memory is bounded (the configured
// groups' windows are in the store: windows.go). A reply window is useless
// once expired or used up, and a push refusal once it lapsed: both are
// forgotten then (sweep, every minute). Anyone can write to the bot, so
// beyond maxChats remembered chats the least useful are evicted — the
// window closest to expiry, the refusal closest to lapsing — and never a
// configured group's refusal. The kicks map holds only what OnWindow
// registers: one entry per configured group, bounded by the config.

// maxChats bounds the chats with a remembered window, and those with a
// remembered push refusal.
const maxChats = 1000

// setWindow makes w the chat's reply window. Callers hold a.mu.
func (a *Adapter) setWindow(chat string, w *window) {
	a.windows[chat] = w
	if len(a.windows) <= maxChats {
		return
	}
	a.sweepLocked()
	for len(a.windows) > maxChats {
		victim := ""
		for c, cw := range a.windows {
			if !a.configured[c] && (victim == "" || cw.expires.Before(a.windows[victim].expires)) {
				victim = c
			}
		}
		if victim == "" {
			return
		}
		delete(a.windows, victim)
	}
}

// refuseActive remembers that a group refused active push until until.
// Callers hold a.mu.
func (a *Adapter) refuseActive(chat string, until time.Time) {
	a.active[chat] = until
	if len(a.active) <= maxChats {
		return
	}
	a.sweepLocked()
	for len(a.active) > maxChats {
		victim := ""
		for c, t := range a.active {
			if !a.configured[c] && (victim == "" || t.Before(a.active[victim])) {
				victim = c
			}
		}
		if victim == "" {
			return
		}
		delete(a.active, victim)
	}
}

// sweep forgets expired and used-up windows and lapsed refusals.
func (a *Adapter) sweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked()
}

func (a *Adapter) sweepLocked() {
	now := a.now()
	for c, w := range a.windows {
		if !now.Before(w.expires) || w.used >= repliesPerMsg {
			delete(a.windows, c)
		}
	}
	for c, until := range a.active {
		if !now.Before(until) {
			delete(a.active, c)
		}
	}
}
