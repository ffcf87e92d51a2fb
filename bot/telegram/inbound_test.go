package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/telegram/tgfake"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/storage"
)

const helpText = "可用命令"

func TestCommandsAreAnsweredInTheChatAsReplies(t *testing.T) {
	f := newFixture(t)
	f.start()
	var handled int64
	for _, tc := range []struct {
		name  string
		send  func() int
		reply string // "" : no reply at all
	}{
		{"with entity", func() int { return f.fake.SendText(group, aliceUID, "/help") }, helpText},
		{"without entity", func() int { return f.fake.SendPlainText(group, aliceUID, "/help") }, helpText},
		{"addressed to us", func() int { return f.fake.SendText(group, aliceUID, "/help@cardflow_test_bot") }, helpText},
		{"addressed to us, other case", func() int { return f.fake.SendText(group, aliceUID, "/stock@Cardflow_Test_Bot") }, "qb-10"},
		{"mention first", func() int { return f.fake.SendPlainText(group, aliceUID, "@cardflow_test_bot /stock qb-10") }, "qb-10"},
		{"in a private chat", func() int { return f.fake.SendText(aliceUID, aliceUID, "/help") }, helpText},
		{"arguments", func() int { return f.fake.SendText(group, aliceUID, "/order 424242") }, "424242"},
		{"addressed to another bot", func() int { return f.fake.SendText(group, aliceUID, "/help@otherbot") }, ""},
		{"mention of another bot", func() int { return f.fake.SendPlainText(group, aliceUID, "@otherbot /help") }, ""},
		{"not a command", func() int { return f.fake.SendText(group, aliceUID, "help me") }, ""},
		{"a stranger", func() int { return f.fake.SendText(group, strangerUID, "/help") }, "不是本店的操作员"},
		// Refused again within the minute: counted, not answered (bot/strangers.go).
		{"a stranger's action", func() int { return f.fake.SendText(group, strangerUID, "/approve 1") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chatID := group
			if tc.name == "in a private chat" {
				chatID = aliceUID
			}
			before := len(f.fake.Messages(chatID))
			msgID := tc.send()
			handled++
			f.settle(handled)
			got := f.after(chatID, before)
			if tc.reply == "" {
				if len(got) != 0 {
					t.Fatalf("got a reply: %q", got[0].Text)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d replies, want 1", len(got))
			}
			if !strings.Contains(got[0].Text, tc.reply) {
				t.Errorf("reply %q does not contain %q", got[0].Text, tc.reply)
			}
			if got[0].ReplyTo != msgID {
				t.Errorf("reply is to message %d, want the command %d", got[0].ReplyTo, msgID)
			}
		})
	}
	// The stranger was audited as refused.
	entries, err := f.engine.AuditLog(5)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Outcome != "refused" || entries[0].Actor.Name != "unknown:999" ||
		entries[0].Actor.Platform != Platform {
		t.Errorf("newest audit entry = %+v, want the stranger refused", entries)
	}
}

func TestCommandReplyCarriesOrderButtons(t *testing.T) {
	f := newFixture(t)
	f.start()
	o := f.review("600.00")
	f.fake.SendText(group, viewerUID, fmt.Sprintf("/order %d", o.ID))
	f.settle(1)
	msgs := f.fake.Messages(group)
	if len(msgs) != 1 {
		t.Fatalf("messages = %d", len(msgs))
	}
	data := []string{}
	for _, b := range msgs[0].Buttons() {
		data = append(data, b.Data)
	}
	if want := fmt.Sprintf("[o:ap:%d o:rf:%d:r]", o.ID, o.ID); fmt.Sprint(data) != want {
		t.Errorf("buttons = %v, want %s", data, want)
	}
}

func TestApprovePressActsOnceEditsThePromptAndAnswers(t *testing.T) {
	f := newFixture(t)
	f.start()
	o := f.review("600.00")
	prompt := f.prompt(o)
	ap := fmt.Sprintf("o:ap:%d", o.ID)

	cb := f.fake.Press(group, aliceUID, prompt, ap)
	f.settle(1)
	f.waitStatus(o.ID, storage.StatusDelivered)
	ans, ok := f.fake.Answer(cb)
	if !ok {
		t.Fatal("the press was not answered")
	}
	if !strings.Contains(ans.Text, "alice") || strings.Contains(ans.Text, "\n") || ans.ShowAlert {
		t.Errorf("answer = %+v, want one line naming alice, no alert", ans)
	}
	m, _ := f.fake.Message(group, prompt)
	if !strings.Contains(m.Text, "alice") || !strings.Contains(m.Text, fmt.Sprintf("#%d", o.ID)) || len(m.Keyboard) != 0 || m.Edits != 1 {
		t.Errorf("prompt after approve = %+v, want it to name alice, without buttons", m)
	}

	// A second press on the stale button says what already happened.
	cb = f.fake.Press(group, aliceUID, prompt, ap)
	f.settle(2)
	ans, _ = f.fake.Answer(cb)
	if !strings.Contains(ans.Text, "当前为") {
		t.Errorf("second press answer = %q, want the already-done text", ans.Text)
	}
	edits := mustMessage(t, f.fake, prompt).Edits
	before := len(f.fake.Messages(group))

	// A stranger is refused: answered, nothing edited, nothing posted.
	cb = f.fake.Press(group, strangerUID, prompt, fmt.Sprintf("o:rf:%d:r", o.ID))
	f.settle(3)
	ans, ok = f.fake.Answer(cb)
	if !ok || !strings.Contains(ans.Text, "不是本店的操作员") {
		t.Errorf("stranger's answer = %+v, %v", ans, ok)
	}
	if m := mustMessage(t, f.fake, prompt); m.Edits != edits {
		t.Errorf("a stranger's press edited the prompt: %+v", m)
	}
	if n := len(f.fake.Messages(group)); n != before {
		t.Errorf("a stranger's press posted %d messages", n-before)
	}
	if got := f.fake.Calls("answerCallbackQuery"); got != 3 {
		t.Errorf("answerCallbackQuery calls = %d, want 3", got)
	}
}

func TestViewerPressOfApproveIsRefusedWithoutEdit(t *testing.T) {
	f := newFixture(t)
	f.start()
	o := f.review("600.00")
	prompt := f.prompt(o)
	cb := f.fake.Press(group, viewerUID, prompt, fmt.Sprintf("o:ap:%d", o.ID))
	f.settle(1)
	if ans, _ := f.fake.Answer(cb); !strings.Contains(ans.Text, "viewer") {
		t.Errorf("answer = %q, want the role refusal", ans.Text)
	}
	if m := mustMessage(t, f.fake, prompt); m.Edits != 0 || len(m.Keyboard) == 0 {
		t.Errorf("prompt changed: %+v", m)
	}
	if o2, _ := f.engine.Order(o.ID); o2.Status != storage.StatusReview {
		t.Errorf("order is %s", o2.Status)
	}
}

func TestDetailsPressPostsTheOrderAsANewMessage(t *testing.T) {
	f := newFixture(t)
	f.start()
	o := f.review("600.00")
	prompt := f.prompt(o)
	cb := f.fake.Press(group, viewerUID, prompt, fmt.Sprintf("o:dt:%d", o.ID))
	f.settle(1)
	ans, ok := f.fake.Answer(cb)
	if !ok || !strings.Contains(ans.Text, fmt.Sprintf("#%d", o.ID)) {
		t.Errorf("answer = %+v", ans)
	}
	msgs := f.after(group, 1)
	if len(msgs) != 1 {
		t.Fatalf("posted %d messages, want the details", len(msgs))
	}
	if !strings.Contains(msgs[0].Text, "\n") || !strings.Contains(msgs[0].Text, "buyer-7") || msgs[0].ReplyTo != prompt {
		t.Errorf("details = %+v", msgs[0])
	}
	if len(msgs[0].Buttons()) == 0 {
		t.Errorf("details of an order in review carry its buttons")
	}
	if m := mustMessage(t, f.fake, prompt); m.Edits != 0 {
		t.Errorf("the prompt was edited: %+v", m)
	}
}

func TestPressOnAnInaccessibleMessage(t *testing.T) {
	f := newFixture(t)
	f.start()

	t.Run("still there: edited by its ids", func(t *testing.T) {
		o := f.review("600.00")
		prompt := f.prompt(o)
		cb := f.fake.PressInaccessible(group, aliceUID, prompt, fmt.Sprintf("o:ap:%d", o.ID))
		f.settle(1)
		if _, ok := f.fake.Answer(cb); !ok {
			t.Error("not answered")
		}
		if m := mustMessage(t, f.fake, prompt); !strings.Contains(m.Text, "alice") {
			t.Errorf("prompt = %q", m.Text)
		}
	})
	t.Run("gone: the result is posted", func(t *testing.T) {
		o := f.review("700.00")
		before := len(f.fake.Messages(group))
		cb := f.fake.PressInaccessible(group, aliceUID, 12, fmt.Sprintf("o:ap:%d", o.ID))
		f.settle(2)
		f.waitStatus(o.ID, storage.StatusDelivered)
		if _, ok := f.fake.Answer(cb); !ok {
			t.Error("not answered")
		}
		msgs := f.after(group, before)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "alice") {
			t.Errorf("posted %+v, want the approval", msgs)
		}
	})
	// An inline message names no chat, so it is in no chat the operators
	// use (the bot never sends one): the press is ignored.
	t.Run("no message at all: ignored", func(t *testing.T) {
		before := len(f.fake.Messages(group))
		f.fake.InjectUpdate(models.Update{CallbackQuery: &models.CallbackQuery{ID: "inline-1",
			From: models.User{ID: aliceUID, FirstName: "Alice"}, InlineMessageID: "im-1", Data: "o:dt:1"}})
		f.settle(3)
		if ans, ok := f.fake.Answer("inline-1"); ok {
			t.Errorf("answered %+v", ans)
		}
		if n := len(f.fake.Messages(group)); n != before {
			t.Errorf("posted %d messages", n-before)
		}
	})
}

func TestUpdatesWithMissingFieldsAreIgnored(t *testing.T) {
	f := newFixture(t)
	f.start()
	// Through the SDK: an anonymous admin (no from), a channel post, a
	// press with no message, a document without caption.
	f.fake.InjectUpdate(models.Update{Message: &models.Message{ID: 1, Chat: models.Chat{ID: group}, Text: "/help", Date: 1}})
	f.fake.InjectUpdate(models.Update{ChannelPost: &models.Message{ID: 2, Chat: models.Chat{ID: group}, Text: "/help", Date: 1}})
	f.fake.InjectUpdate(models.Update{Message: &models.Message{ID: 3, From: &models.User{ID: adminUID}, Chat: models.Chat{ID: group},
		Date: 1, Document: &models.Document{FileID: "x", FileName: "a.txt"}}})
	f.fake.InjectUpdate(models.Update{})
	f.settle(4)
	// And straight into the dispatcher, fields the SDK would not leave nil.
	ctx := context.Background()
	for _, u := range []*models.Update{
		nil,
		{Message: &models.Message{From: &models.User{ID: aliceUID}}},
		{CallbackQuery: &models.CallbackQuery{ID: "cb-x"}},
		{Message: &models.Message{From: &models.User{ID: adminUID}, Caption: "/import qb-10", Document: &models.Document{}}},
	} {
		f.ad.dispatch(ctx, nil, u)
	}
	if n := len(f.fake.Messages(group)); n != 0 {
		t.Errorf("posted %d messages", n)
	}
	if logs := f.logs.String(); strings.Contains(logs, "inbound event failed") {
		t.Errorf("a handler panicked:\n%s", logs)
	}
}

// panicAuth panics on every lookup, standing in for any bug below the
// adapter.
type panicAuth struct{}

func (panicAuth) Operator(chat.Identity) (operator.Operator, bool) { panic("authorizer bug") }

func TestAPanickingHandlerDoesNotEndTheProcess(t *testing.T) {
	f := newFixture(t)
	f.ad.handler = operator.New(operator.Options{Orders: f.engine, Auth: panicAuth{}, Language: "zh", Log: zerolog.New(f.logs)})
	f.start()
	f.fake.SendText(group, aliceUID, "/help")
	cb := f.fake.Press(group, aliceUID, 1, "o:ap:1")
	f.settle(2)
	if n := strings.Count(f.logs.String(), "inbound event failed"); n != 2 {
		t.Errorf("logged %d panics, want 2:\n%s", n, f.logs.String())
	}
	if ans, ok := f.fake.Answer(cb); !ok || !strings.Contains(ans.Text, "出错了") {
		t.Errorf("the press was not answered after the panic: %+v", ans)
	}
	// Both panics came from the SDK's handler goroutines; the test process
	// is still here, and so is the adapter: it stops cleanly at cleanup.
}

func mustMessage(t *testing.T, fake *tgfake.Server, id int) tgfake.Message {
	t.Helper()
	m, ok := fake.Message(group, id)
	if !ok {
		t.Fatalf("message %d not found", id)
	}
	return m
}

// TestRejectPressOfAClaimAsksForTheReasonUnderThePrompt: the Reject button
// of a claim prompt does not reject: the toast says a reason is needed and
// the command to type is posted under the prompt, which keeps its buttons;
// the command typed in the group rejects the claim with its reason.
func TestRejectPressOfAClaimAsksForTheReasonUnderThePrompt(t *testing.T) {
	f := newFixture(t)
	f.start()
	o := f.review("600.00")
	if _, err := f.engine.Approve(storage.Actor{Name: "carol", Platform: Platform}, o.ID); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(o.ID, storage.StatusDelivered)
	cl, _, err := f.engine.OpenClaim("shop", o.ID, processor.ClaimRequest{Reason: processor.ClaimCardInvalid, Message: "提示已使用"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.ops.RenderAlert(storage.Alert{Key: fmt.Sprintf("claim:%d", cl.ID), Type: alert.Claim, OrderID: o.ID, SKU: o.SKU,
		Claim: &storage.ClaimPrompt{ID: cl.ID, Reason: cl.Reason, Quantity: 1, Message: cl.Message}})
	id, err := f.ad.Send(fmt.Sprint(group), r)
	if err != nil {
		t.Fatal(err)
	}
	prompt := atoi(t, id)
	before := len(f.fake.Messages(group))
	cb := f.fake.Press(group, aliceUID, prompt, fmt.Sprintf("k:rj:%d", cl.ID))
	f.settle(1)
	if ans, _ := f.fake.Answer(cb); ans.Text != "驳回售后需要写明理由（会告知商城），请发送：" {
		t.Errorf("toast = %q", ans.Text)
	}
	msgs := f.after(group, before)
	if want := fmt.Sprintf("/reject %d <理由>", o.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "\n"+want) || msgs[0].ReplyTo != prompt {
		t.Fatalf("posted %+v, want %q under the prompt", msgs, want)
	}
	if m := mustMessage(t, f.fake, prompt); m.Edits != 0 || len(m.Keyboard) == 0 {
		t.Errorf("the prompt changed: %+v", m)
	}
	f.fake.SendText(group, aliceUID, fmt.Sprintf("/reject %d 已核实可用", o.ID))
	f.settle(2)
	testkit.Eventually(t, "the claim rejected", func() bool {
		got, err := f.engine.ClaimByID(cl.ID)
		return err == nil && got.Status == storage.ClaimRejected && got.Note == "已核实可用" && got.ResolvedBy.Name == "alice"
	})
}
