package operator

import (
	"strings"
	"testing"
)

// TestSupplierCommandsShowPauseAndResume: viewers see /suppliers, only
// admins pause and resume, by command or by an alert's Pause button, and
// every change is audited.
func TestSupplierCommandsShowPauseAndResume(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	containsAll(t, "/suppliers", f.send(b, viewerID, "/suppliers").Text, "🏭 供货商", "own（stock）：正常")

	if r := f.send(b, aliceID, "/pause own"); !strings.Contains(r.Text, "不能执行 /pause") {
		t.Fatalf("an operator paused a supplier: %q", r.Text)
	}
	containsAll(t, "/pause", f.send(b, adminID, "/pause own").Text, "⏸ own 已由 carol 暂停")
	containsAll(t, "/suppliers after pause", f.send(b, viewerID, "/suppliers").Text, "own（stock）：已暂停")
	containsAll(t, "/resume", f.send(b, adminID, "/resume own").Text, "▶️ own 已由 carol 恢复")
	containsAll(t, "/pause of an unknown name", f.send(b, adminID, "/pause nosuch").Text, "没有名为 nosuch 的供货商或商品")
	containsAll(t, "/pause without a name", f.send(b, adminID, "/pause").Text, "用法：/pause <supplier|sku>")

	// The Pause button of a supplier-down alert.
	if r := f.press(b, aliceID, "s:pa:own"); !strings.Contains(r.Text, "不能执行 pause") {
		t.Fatalf("an operator pressed Pause: %q", r.Text)
	}
	containsAll(t, "Pause button", f.press(b, adminID, "s:pa:own").Text, "⏸ own 已由 carol 暂停")
	if got := ButtonCommand("s:pa:own"); got != "/pause own" {
		t.Errorf("ButtonCommand = %q", got)
	}
	entries := f.audit(10)
	if entries[0].Action != "pause" || entries[0].Target != "supplier:own" || entries[0].Actor.Name != "carol" {
		t.Errorf("audit = %+v", entries[0])
	}
}

func TestAuditCommandShowsTheNewestEntriesToAdmins(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	f.send(b, adminID, "/pause own")
	f.send(b, strangerID, "/approve 1")
	out := f.send(b, adminID, "/audit 2").Text
	containsAll(t, "/audit", out, "🧾 最近 2 条操作记录", "unknown:999@telegram /approve → refused", "carol@telegram pause supplier:own → ok")
	if r := f.send(b, aliceID, "/audit"); !strings.Contains(r.Text, "不能执行 /audit") {
		t.Fatalf("an operator read the audit log: %q", r.Text)
	}
	containsAll(t, "/audit 0", f.send(b, adminID, "/audit 0").Text, "用法：/audit [1-50]")
}
