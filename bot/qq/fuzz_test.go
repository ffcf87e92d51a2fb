package qq

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"cardflow/bot/bind"

	"github.com/rs/zerolog"

	"cardflow/bot/operator"
	"cardflow/bot/qq/qqfake"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// FuzzQQInboundEvent sends QQ events end to end: a dispatch (op 0) of a
// fuzzed type with fuzzed data, or a group @-message, a C2C message or a
// button click with fuzzed text from a bound operator, signed and posted by
// the fake QQ platform to the adapter's webhook over HTTP, stored in bbolt,
// then drained and handled by the real operator layer and engine.
// Properties: the webhook answers every signed call; afterwards the
// inbound queue is empty (every event acted on or dropped as malformed);
// nothing panicked — no event set aside, no failure audited.
func FuzzQQInboundEvent(f *testing.F) {
	fake := qqfake.New(vectorAppID, vectorSecret)
	f.Cleanup(fake.Close)
	store := testkit.NewStore(f, teststore.Open)
	engine := processor.New(store, processor.Options{
		Products: []config.Product{{SKU: "qb-10", Name: "Q币10元", Kind: config.KindCard, MaxQuantity: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}}},
		Suppliers:   []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: "shop", Secret: []byte("shop-secret"), CallbackURL: "http://127.0.0.1:1/cb"}},
		Screen:      holdAll{}, Log: zerolog.Nop(),
	})
	if err := engine.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(engine.Stop)
	roster := []config.Operator{{Name: "alice", Role: config.RoleAdmin}}
	binds := bind.New(store, nil)
	b := operator.New(operator.Options{Orders: engine, Bindings: binds, Auth: operator.NewBound(binds, roster), Roster: operator.Roster(roster), Log: zerolog.Nop()})
	a := New(Options{AppID: vectorAppID, Secret: vectorSecret, APIURL: fake.URL(), TokenURL: fake.URL(),
		Groups: []string{testGroup}, Bot: b, Store: store, Log: zerolog.Nop(), Alert: engine.RaiseAlert})
	hook := httptest.NewServer(a)
	f.Cleanup(hook.Close)
	fake.SetWebhook(hook.URL)
	for _, id := range []string{"qq:" + testGroup + "/" + testMember, "qq:c2c/" + testUser} {
		code, _, err := binds.Issue(storage.Actor{Name: "test", Platform: "test"}, "alice")
		if err == nil {
			_, err = binds.Bind(storage.Actor{Name: "test", Platform: "test"}, id, code)
		}
		if err != nil {
			f.Fatal(err)
		}
	}
	if _, _, err := engine.Submit(processor.Request{Storefront: "shop", ExternalID: "E-1", SKU: "qb-10", Quantity: 1,
		Amount: 1000, Buyer: storage.Buyer{ID: "b"}}); err != nil {
		f.Fatal(err)
	}

	const (
		modeDispatch = iota // the whole "d" fuzzed
		modeGroupAt
		modeC2C
		modeClick
		modes
	)
	for _, s := range []struct {
		mode    uint8
		typ     string
		d, text string
	}{
		// What crashed every start: an @-mention without text, a C2C
		// message that is only an image.
		{modeGroupAt, "", "", ""},
		{modeGroupAt, "", "", " "},
		{modeC2C, "", "", ""},
		{modeDispatch, "GROUP_AT_MESSAGE_CREATE", `{"id":"m1","content":" ","group_openid":"GROUP-A","author":{"member_openid":"MEMBER-ALICE"}}`, ""},
		{modeDispatch, "C2C_MESSAGE_CREATE", `{"id":"m2","author":{"user_openid":"USER-ALICE"},"attachments":[{"content_type":"image/png","url":"https://x"}]}`, ""},
		{modeDispatch, "INTERACTION_CREATE", `{"id":"i1","type":11,"group_openid":"GROUP-A","group_member_openid":"MEMBER-ALICE"}`, ""},
		{modeDispatch, "INTERACTION_CREATE", `{"id":"i2","data":{"resolved":"not an object"}}`, ""},
		{modeDispatch, "GROUP_AT_MESSAGE_CREATE", `null`, ""},
		{modeDispatch, "C2C_MESSAGE_CREATE", `[]`, ""},
		{modeDispatch, "GROUP_ADD_ROBOT", `{"group_openid":"GROUP-A","op_member_openid":"M"}`, ""},
		{modeDispatch, "", `{}`, ""},
		{modeGroupAt, "", "", "/pending"},
		{modeGroupAt, "", "", "<@!bot> /approve 1"},
		{modeGroupAt, "", "", "/inbox"},
		{modeGroupAt, "", "", "/bind ZZZZ"},
		{modeC2C, "", "", "/order 1"},
		{modeClick, "", "", "o:ap:1"},
		{modeClick, "", "", NextBatch},
		{modeClick, "", "", "s:si:"},
	} {
		f.Add(s.mode, s.typ, []byte(s.d), s.text)
	}

	ctx := context.Background()
	n := 0
	f.Fuzz(func(t *testing.T, mode uint8, typ string, d []byte, text string) {
		n++
		id := "fz-" + strconv.Itoa(n)
		var dd any
		switch mode % modes {
		case modeDispatch:
			dd = json.RawMessage(d)
			if !json.Valid(d) {
				dd = string(d)
			}
		case modeGroupAt:
			typ = "GROUP_AT_MESSAGE_CREATE"
			dd = map[string]any{"id": id, "content": " " + text, "group_openid": testGroup,
				"author": map[string]string{"member_openid": testMember}}
		case modeC2C:
			typ = "C2C_MESSAGE_CREATE"
			dd = map[string]any{"id": id, "content": text, "author": map[string]string{"user_openid": testUser}}
		case modeClick:
			typ = "INTERACTION_CREATE"
			dd = map[string]any{"id": id, "type": 11, "group_openid": testGroup, "group_member_openid": testMember,
				"data": map[string]any{"type": 11, "resolved": map[string]string{"button_data": text}}}
		}
		body, err := json.Marshal(map[string]any{"id": id, "op": 0, "s": n, "t": typ, "d": dd})
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		del, err := fake.Send(qqfake.Callback{Body: body, Timestamp: ts, Sign: true})
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		if !del.Acked() {
			t.Fatalf("webhook answered %d %s to %s", del.Status, del.Answer, body)
		}
		a.drain(ctx)

		if n := inboundCount(t, store); n != 0 {
			t.Fatalf("%d events left queued after %s", n, body)
		}
		var parked []storage.ParkedEvent
		if err := store.View(func(tx *storage.Tx) error {
			return tx.Inbound().Parked(func(p storage.ParkedEvent) { parked = append(parked, p) })
		}); err != nil {
			t.Fatal(err)
		}
		if len(parked) > 0 {
			t.Fatalf("handling %s panicked (set aside: %s)", body, parked[0].Why)
		}
		entries, err := engine.AuditLog(5)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Action == "inbound" {
				t.Fatalf("a failure audited after %s: %+v", body, e)
			}
		}
	})
}
