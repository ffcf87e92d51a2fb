package storage

import (
	"encoding/json"
	"fmt"
)

// Outbox events are stored in the binary form of codec.go too: every order
// writes at least one event and rewrites it on each failed attempt, and
// encoding/json spent more time on the times in an event than the rest of
// the write did. The first byte tells the forms apart: eventFormat, or '{'
// for an event written as JSON by an earlier version, which still reads.
// An alert is rare and nested, so it rides along as JSON. Format 2 adds
// the claim id of a claim.resolved callback at the end; every other event
// is still written in format 1, which a build from before claims reads.
// Format 3 appends the owner after the claim id, written only for an event
// that has one (several processes on PostgreSQL).
const (
	eventFormat1 = 1
	eventFormat  = 2
	eventFormat3 = 3
)

func encodeEvent(dst []byte, ev *Event) ([]byte, error) {
	format := byte(eventFormat1)
	switch {
	case ev.Owner != "":
		format = eventFormat3
	case ev.ClaimID != 0:
		format = eventFormat
	}
	e := encoder{b: append(dst, format)}
	e.uvarint(ev.Seq)
	e.str(ev.ID)
	e.str(ev.Kind)
	e.str(ev.Type)
	e.uvarint(ev.OrderID)
	e.str(ev.Target)
	e.time(ev.CreatedAt)
	e.str(string(ev.Status))
	e.str(ev.Reason)
	e.time(ev.UpdatedAt)
	e.time(ev.DeliveredAt)
	e.varint(int64(ev.CardSet))
	var alert []byte
	if ev.Alert != nil {
		var err error
		if alert, err = json.Marshal(ev.Alert); err != nil {
			return nil, fmt.Errorf("encode alert of event %d: %w", ev.Seq, err)
		}
	}
	e.bytes(alert)
	e.varint(int64(ev.Attempts))
	e.time(ev.NextAt)
	e.str(ev.LastError)
	e.bool(ev.Alerted)
	if format >= eventFormat {
		e.uvarint(ev.ClaimID)
	}
	if format >= eventFormat3 {
		e.str(ev.Owner)
	}
	return e.b, nil
}

func decodeEvent(b []byte, ev *Event) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, ev)
	}
	if len(b) == 0 || b[0] < eventFormat1 || b[0] > eventFormat3 {
		return fmt.Errorf("%w: unknown event format", errCorrupt)
	}
	d := decoder{b: b[1:]}
	ev.Seq = d.uvarint()
	ev.ID = d.str()
	ev.Kind = d.str()
	ev.Type = d.str()
	ev.OrderID = d.uvarint()
	ev.Target = d.str()
	ev.CreatedAt = d.time()
	ev.Status = Status(d.str())
	ev.Reason = d.str()
	ev.UpdatedAt = d.time()
	ev.DeliveredAt = d.time()
	ev.CardSet = int(d.varint())
	alert := d.raw(d.count(1))
	ev.Attempts = int(d.varint())
	ev.NextAt = d.time()
	ev.LastError = d.str()
	ev.Alerted = d.bool()
	if b[0] >= eventFormat {
		ev.ClaimID = d.uvarint()
	}
	if b[0] >= eventFormat3 {
		ev.Owner = d.str()
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	if len(alert) > 0 {
		ev.Alert = new(Alert)
		if err := json.Unmarshal(alert, ev.Alert); err != nil {
			return fmt.Errorf("decode alert: %w", err)
		}
	}
	return nil
}
