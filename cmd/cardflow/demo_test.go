package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

// demoRun is a running `cardflow demo` whose stdout is collected line by line.
type demoRun struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startDemo(t *testing.T, dir string) *demoRun {
	t.Helper()
	cmd := exec.Command(cardflowBinary(t), "demo", "-dir", dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	d := &demoRun{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
		}
		_ = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-d.done })
	return d
}

func (d *demoRun) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

func (d *demoRun) waitFor(t *testing.T, what string, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	testkit.EventuallyWithin(t, 60*time.Second, what, func() bool {
		m = re.FindStringSubmatch(d.output())
		return m != nil
	})
	return m
}

func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("demo did not stop on Ctrl-C:\n%s", d.output())
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("demo exit code %d:\n%s", code, d.output())
	}
}

// TestDemoRunsShowsOrdersAcceptsCommandsAndResumes starts the demo with no
// configuration, watches orders being delivered, an out-of-stock alert, a
// digest of review prompts and a buyer's claim, types operator commands
// (rejecting the claim), stops it with Ctrl-C
// and starts it again on the same data. The demo's storefront and its
// Dujiao-Next docking shop must have found nothing wrong in either run.
func TestDemoRunsShowsOrdersAcceptsCommandsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	dir := t.TempDir() + "/demo"
	d := startDemo(t, dir)
	d.waitFor(t, "banner", regexp.MustCompile(`storefront API\s+http://127\.0\.0\.1:\d+`))
	d.waitFor(t, "an out-of-stock alert", regexp.MustCompile(`缺货：(jd-100|psn-200)`))
	m := d.waitFor(t, "a delivered order", regexp.MustCompile(`✓ #(\d+) \S+ → 已发货`))
	delivered := m[1]
	// The simulated Dujiao-Next shop buys beside the storefront, named in the feed.
	d.waitFor(t, "a docking shop's order delivered", regexp.MustCompile(`✓ #\d+ \S+ → 已发货 🔌demo-djshop`))
	// It was topped up to 10000.00 at start and pays for what it bought.
	io.WriteString(d.stdin, "/balance\n")
	m = d.waitFor(t, "the docking shop's balance", regexp.MustCompile(`💰 对接商城余额\ndemo-djshop：(\d+)\.\d\d 元`))
	if n, _ := strconv.Atoi(m[1]); n >= 10000 {
		t.Errorf("the docking shop's balance is %s after an order delivered", m[0])
	}

	io.WriteString(d.stdin, "/order "+delivered+"\n")
	d.waitFor(t, "order details with masked cards", regexp.MustCompile(`订单 #`+delivered+` [^\n]*\n状态：已发货[\s\S]*卡密：\*\*\*\*`))
	io.WriteString(d.stdin, "/stock\n")
	d.waitFor(t, "stock levels", regexp.MustCompile(`📦 库存\n[\s\S]*qb-10 Q币 10元：\d+`))
	io.WriteString(d.stdin, "/help\n")
	d.waitFor(t, "help", regexp.MustCompile(`/approve <单号>`))
	// A prompt is a message of its own, or a line of a digest.
	m = d.waitFor(t, "a large order held for review", regexp.MustCompile(`(?m)^(?:🔍 |  )订单 #(\d+)（steam-50）待审核`))
	io.WriteString(d.stdin, "/approve "+m[1]+"\n")
	d.waitFor(t, "approval", regexp.MustCompile(`订单 #`+m[1]+` 已由 \S+ 批准`))
	d.waitFor(t, "the approved order delivered", regexp.MustCompile(`✓ #`+m[1]+` steam-50 → 已发货`))
	io.WriteString(d.stdin, "/approve "+m[1]+"\n")
	d.waitFor(t, "a repeated approval told what happened", regexp.MustCompile(`订单 #`+m[1]+` 当前为「已发货」，已由`))
	// A buyer's after-sale claim: its prompt with the typed forms of its
	// buttons, /claims, Reject asking for the reason, /reject with one.
	m = d.waitFor(t, "a claim prompt", regexp.MustCompile(`🧾 售后：订单 #(\d+) · \S+ ×\d+ · 卡密无效（1 张）\n`+
		`买家留言：充值时提示卡密已被使用\n卡密来源：own #\d+\n该买家此前(?:无售后|售后 \d+ 次)\n`+
		`\[补发: /claim (\d+) reissue\]  \[退款: /claim \d+ refund\]  \[驳回: /claim \d+ reject <reason>\]`))
	claimed, claim := m[1], m[2]
	io.WriteString(d.stdin, "/claims\n")
	d.waitFor(t, "the open claims", regexp.MustCompile(`🧾 待处理售后 \d+ 件（最早的在前）：\n#`+claimed+` `))
	io.WriteString(d.stdin, "/reject "+claimed+"\n")
	d.waitFor(t, "a rejection asking for its reason", regexp.MustCompile(`驳回售后需要写明理由（会告知商城），请发送：\n/reject `+claimed+` <理由>`))
	io.WriteString(d.stdin, "/reject "+claimed+" 已核实可用\n")
	d.waitFor(t, "the claim rejected", regexp.MustCompile(`售后 #`+claim+`（订单 #`+claimed+`）已由 \S+ 驳回。`))
	d.waitFor(t, "the claim prompt resolved", regexp.MustCompile(`✅ 售后 #`+claim+`（订单 #`+claimed+`）已由 \S+ 处理：驳回`))
	// game-100 is bought as two 50s: its storefront gets two cards a unit.
	d.waitFor(t, "an order bought as two supplier units delivered", regexp.MustCompile(`✓ #\d+ game-100 → 已发货`))
	// A burst from one buyer holds several orders at once: one digest.
	d.waitFor(t, "review prompts folded into a digest", regexp.MustCompile(`🔍 \d+ 笔订单待审核：`))
	d.stop(t)
	if strings.Contains(d.output(), "panic") {
		t.Fatalf("panic in output:\n%s", d.output())
	}
	assertStorefrontSawNoProblem(t, d.output())
	if !regexp.MustCompile(`🔌 对接商城 demo-djshop：下单 \d+ 笔（被拒 \d+ 笔），回调收到 [1-9]`).MatchString(d.output()) {
		t.Errorf("the docking shop's tally shows no order delivered by callback:\n%s", d.output())
	}
	last := lastOrderID(d.output())

	// A second run resumes from the same data: new orders continue the ids.
	// An order still in flight at the stop may finish first, so the test
	// waits for a delivery of an order the first run never showed.
	d2 := startDemo(t, dir)
	done := regexp.MustCompile(`✓ #(\d+) \S+ → 已发货`)
	testkit.EventuallyWithin(t, 60*time.Second, "a new order delivered after restart", func() bool {
		for _, m := range done.FindAllStringSubmatch(d2.output(), -1) {
			if n, _ := strconv.Atoi(m[1]); n > last {
				return true
			}
		}
		return false
	})
	// An older id delivered again would mean ids restarted or a card went twice.
	for _, m := range done.FindAllStringSubmatch(d2.output(), -1) {
		if strings.Contains(d.output(), "✓ #"+m[1]+" ") {
			t.Fatalf("second run delivered #%s, which the first run had delivered", m[1])
		}
	}
	d2.stop(t)
	assertStorefrontSawNoProblem(t, d2.output())
}

// assertStorefrontSawNoProblem fails on any problem the demo's storefront
// or docking shop reported (their tallies, printed every 30 s and on
// stopping, and a "   ✗ " line per problem), when either printed no tally
// at all.
func assertStorefrontSawNoProblem(t *testing.T, out string) {
	t.Helper()
	tally := regexp.MustCompile(`🛒 商城已验证 \d+ 个回调（\d+ 单已发货，\d+ 次重复投递），问题 (\d+) 个`).FindAllStringSubmatch(out, -1)
	if len(tally) == 0 {
		t.Fatalf("the demo printed no storefront tally:\n%s", out)
	}
	for _, m := range tally {
		if m[1] != "0" {
			t.Errorf("the storefront reported %s problems", m[1])
		}
	}
	docking := regexp.MustCompile(`🔌 对接商城 demo-djshop：下单 (\d+) 笔（被拒 \d+ 笔），回调收到 (\d+) 单共 \d+ 张卡密（重复 \d+ 次，取消 \d+ 单），余额 \S+，问题 (\d+) 个`).FindAllStringSubmatch(out, -1)
	if len(docking) == 0 {
		t.Fatalf("the demo printed no docking shop tally:\n%s", out)
	}
	for _, m := range docking {
		if m[3] != "0" {
			t.Errorf("the docking shop reported %s problems", m[3])
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "   ✗ ") {
			t.Errorf("the storefront reported: %s", strings.TrimSpace(line))
		}
	}
}

func lastOrderID(out string) int {
	last := 0
	for _, m := range regexp.MustCompile(`#(\d+)`).FindAllStringSubmatch(out, -1) {
		if n, _ := strconv.Atoi(m[1]); n > last {
			last = n
		}
	}
	return last
}
