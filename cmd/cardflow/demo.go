package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cardflow/bot/chat"
	"cardflow/bot/console"
	"cardflow/bot/operator"
	"cardflow/config"
	"cardflow/internal/adminclient"
	"cardflow/internal/app"
	"cardflow/internal/demo"
	"cardflow/internal/logging"
	"cardflow/internal/money"
	"cardflow/internal/periodic"
	"cardflow/internal/storefront"
	"cardflow/processor"
	"cardflow/storage"
)

func cmdDemo(args []string) int {
	fset := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fset.String("dir", "./cardflow-demo", "data directory (created; reused by the next run)")
	lang := fset.String("lang", "zh", "operator language: zh or en")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDemo(ctx, *dir, *lang); err != nil {
		fmt.Fprintf(os.Stderr, "cardflow demo: %v\n", err)
		return 1
	}
	return 0
}

func runDemo(ctx context.Context, dir, lang string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	keyText, master, err := demoMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		return err
	}
	secret, token := randomHex(24), randomHex(24)
	apiLn, err := listenFrom(8080, 20)
	if err != nil {
		return err
	}
	adminLn, err := listenFrom(8081, 20)
	if err != nil {
		return err
	}
	// The simulated storefront's callback receiver checks every callback.
	receiver := storefront.NewReceiver(map[string][]byte{demo.StorefrontID: []byte(secret)})
	demo.ExpectDeliveries(receiver)
	cbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for callbacks: %w", err)
	}
	cbSrv := &http.Server{Handler: receiver, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = cbSrv.Serve(cbLn) }()
	defer cbSrv.Close()

	cfg := demo.Config(dir, apiLn.Addr().String(), adminLn.Addr().String(),
		"http://"+cbLn.Addr().String()+"/cardflow/callback", secret, token)
	// The simulated Dujiao-Next shop takes its callbacks on a listener of
	// its own, as a shop on another host would.
	// Its secret and port stay from run to run, so that an order of an
	// earlier run still reaches it.
	djShop := &demo.DujiaoShop{Secret: []byte(derivedSecret(master, demo.DockingShopID)), RunID: time.Now().Format("150405")}
	djLn, err := listenFrom(8090, 20)
	if err != nil {
		return fmt.Errorf("listen for the docking shop's callbacks: %w", err)
	}
	djShop.CallbackURL = "http://" + djLn.Addr().String() + demo.DockingPath
	djSrv := &http.Server{Handler: djShop, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = djSrv.Serve(djLn) }()
	defer djSrv.Close()
	demo.AddDockingShop(cfg, djShop.CallbackURL, string(djShop.Secret))
	cfg.Bot.Language = lang
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	log, err := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format, append(cfg.Secrets(), keyText))
	if err != nil {
		return err
	}

	var con *console.Console
	a, err := app.New(cfg, master, log, app.Options{Observe: func(c processor.Change) {
		if con != nil {
			if line := feedLine(lang, c); line != "" {
				con.Println(line)
			}
		}
	}})
	if err != nil {
		return err
	}
	// The console is the demo's chat: its sender has no grouping wait, so
	// alerts show up as they happen, and a budget of messages a minute as on
	// Telegram, so that a storm of them is printed as a digest. With
	// TELEGRAM_TOKEN the demo also talks to Telegram.
	cfg.Alerts.GroupWait = 0
	auth := operator.AnyOf{console.Authorizer{Name: localUser()}}
	tg, tgOperator := demoTelegram()
	if tgOperator != 0 {
		auth = append(auth, operator.NewOperators([]config.Operator{{Name: "telegram-admin", Role: config.RoleAdmin, TelegramID: tgOperator}}))
	}
	ops := app.NewOperatorLayer(a, cfg, auth)
	con = console.New(ops.Handler(), os.Stdin, os.Stdout, localUser(), console.WithChartDir(filepath.Join(cfg.DataDir, "charts")))
	ops.Add(app.Destination{Dest: console.Dest, Chat: console.Dest, Channel: con, PerMinute: console.PerMinute})
	if tg.Enabled() {
		if err := ops.AddTelegram(tg); err != nil {
			a.Stop()
			return err
		}
	}
	ops.Wire()
	if err := a.Start(ctx, apiLn, adminLn); err != nil {
		a.Stop()
		return err
	}
	defer a.Stop()

	admin := &adminclient.Client{BaseURL: "http://" + a.AdminAddr(), Token: token, Actor: "demo"}
	if err := fillDemoStock(ctx, admin, dir); err != nil {
		return err
	}
	printBanner(lang, a, cfg.DataDir, token)

	shop := &demo.Shop{
		Client: &storefront.Client{BaseURL: "http://" + a.APIAddr(), ID: demo.StorefrontID, Secret: []byte(secret)},
		RunID:  time.Now().Format("150405"),
		Log:    con.Println,
	}
	go shop.Run(ctx)
	djShop.BaseURL, djShop.Log = "http://"+a.APIAddr(), con.Println
	if err := topUpDockingShop(ctx, admin); err != nil {
		return err
	}
	if err := djShop.Connect(ctx); err != nil {
		return err
	}
	go djShop.Run(ctx)
	go restockLater(ctx, admin, con)
	go reportCallbacks(ctx, receiver, djShop, con, lang)
	go func() { _ = con.Run(ctx) }()
	runCtx, stopOps := context.WithCancel(ctx)
	ops.Run(runCtx)
	defer ops.Wait()
	defer stopOps() // before ops.wait, after which the app stops

	select {
	case <-ctx.Done():
	case err := <-a.Err():
		return err
	}
	printCallbackReport(context.Background(), receiver, djShop, con, lang) // the last word on what the shops saw
	con.Println(pickLang(lang, "正在停止…（再次运行 cardflow demo 会从同一数据继续）", "stopping… (run cardflow demo again to resume from the same data)"))
	return nil
}

// demoMasterKey reads the demo's master key, generating it on the first run.
func demoMasterKey(path string) (string, []byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := config.GenerateMasterKey()
		if err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return "", nil, fmt.Errorf("write demo master key: %w", err)
		}
		data = []byte(key)
	} else if err != nil {
		return "", nil, fmt.Errorf("read demo master key: %w", err)
	}
	text := strings.TrimSpace(string(data))
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(key) != 32 {
		return "", nil, fmt.Errorf("%s is not a base64 32-byte key; delete it to start a fresh demo", path)
	}
	return text, key, nil
}

// listenFrom listens on 127.0.0.1:port or the next free port of n.
func listenFrom(port, n int) (net.Listener, error) {
	var err error
	for p := port; p < port+n; p++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			return ln, nil
		}
	}
	return nil, fmt.Errorf("no free port in 127.0.0.1:%d-%d: %w", port, port+n-1, err)
}

// fillDemoStock imports generated card keys on the first run only.
func fillDemoStock(ctx context.Context, admin *adminclient.Client, dir string) error {
	marker := filepath.Join(dir, "stocked")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	for sku, lines := range demo.InitialStock() {
		if _, err := admin.ImportStock(ctx, sku, strings.NewReader(lines)); err != nil {
			return fmt.Errorf("fill demo stock %s: %w", sku, err)
		}
	}
	return os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o600)
}

// restockLater plays the supplier who delivers the missing SKU.
func restockLater(ctx context.Context, admin *adminclient.Client, con *console.Console) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(demo.RestockAfter):
	}
	res, err := admin.ImportStock(ctx, demo.RestockSKU, strings.NewReader(demo.CardLines(demo.RestockSKU, demo.RestockCount)))
	if err != nil {
		con.Println("restock failed: " + err.Error())
		return
	}
	con.Println(fmt.Sprintf("📥 %s +%d", demo.RestockSKU, res.Added))
}

// reportCallbacks prints what the simulated shops verified every 30 s.
func reportCallbacks(ctx context.Context, r *storefront.Receiver, dj *demo.DujiaoShop, con *console.Console, lang string) {
	periodic.Every(ctx, 30*time.Second, func() { printCallbackReport(ctx, r, dj, con, lang) })
}

// printCallbackReport prints each simulated shop's tally and every broken
// promise it has seen, one "   ✗ " line each.
func printCallbackReport(ctx context.Context, r *storefront.Receiver, dj *demo.DujiaoShop, con *console.Console, lang string) {
	st, problems := r.Stats(), r.Problems()
	con.Println(fmt.Sprintf(pickLang(lang, "🛒 商城已验证 %d 个回调（%d 单已发货，%d 次重复投递），问题 %d 个",
		"🛒 storefront verified %d callbacks (%d orders delivered, %d repeats), %d problems"),
		st.Accepted, st.Delivered, st.Repeats, len(problems)))
	for _, p := range problems {
		con.Println("   ✗ " + p)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t, problems := dj.Tally(ctx), dj.Problems()
	con.Println(fmt.Sprintf(pickLang(lang, "🔌 对接商城 %s：下单 %d 笔（被拒 %d 笔），回调收到 %d 单共 %d 张卡密（重复 %d 次，取消 %d 单），余额 %s，问题 %d 个",
		"🔌 docking shop %s: %d orders placed (%d refused), %d delivered by callback with %d keys (%d repeats, %d canceled), balance %s, %d problems"),
		demo.DockingShopID, t.Placed, t.Refused, t.Delivered, t.Keys, t.Repeats, t.Canceled, cmp.Or(t.Balance, "?"), len(problems)))
	for _, p := range problems {
		con.Println("   ✗ " + p)
	}
}

// topUpDockingShop brings the docking shop's prepaid balance up to
// demo.DockingFloat through the admin API, as its owner would by paying.
func topUpDockingShop(ctx context.Context, admin *adminclient.Client) error {
	shops, err := admin.Storefronts(ctx)
	if err != nil {
		return fmt.Errorf("read the docking shop's balance: %w", err)
	}
	for _, s := range shops {
		if s.ID != demo.DockingShopID {
			continue
		}
		balance, err := money.ParseSigned(s.Balance)
		if err != nil {
			return fmt.Errorf("the docking shop's balance %q: %w", s.Balance, err)
		}
		if balance >= demo.DockingFloat {
			return nil
		}
		if _, err := admin.AdjustBalance(ctx, s.ID, (demo.DockingFloat - balance).String(), "demo top-up"); err != nil {
			return fmt.Errorf("top up the docking shop: %w", err)
		}
	}
	return nil
}

func feedLine(lang string, c processor.Change) string {
	mark := map[storage.Status]string{storage.StatusDelivered: "✓", storage.StatusFailed: "✗", storage.StatusRefunded: "↩",
		storage.StatusReview: "?", storage.StatusPending: "·", storage.StatusProcessing: "⋯"}[c.To]
	if c.To == storage.StatusPending && c.From == "" {
		return "" // new orders are too many to list; their outcome is shown
	}
	line := fmt.Sprintf("%s %s #%d %s → %s", c.At.In(chat.Shanghai()).Format("15:04:05"), mark, c.OrderID, c.SKU, chat.StatusName(lang, string(c.To)))
	if c.Reason != "" {
		line += " (" + c.Reason + ")"
	}
	if c.Storefront != demo.StorefrontID {
		line += " 🔌" + c.Storefront // a docking shop's order
	}
	return line
}

func printBanner(lang string, a *app.App, dataDir, token string) {
	fmt.Println(pickLang(lang, "cardflow 演示已启动", "cardflow demo is running"))
	fmt.Printf("  storefront API  http://%s\n  admin API       http://%s  (token %s)\n  data            %s\n",
		a.APIAddr(), a.AdminAddr(), token, dataDir)
	fmt.Println(pickLang(lang, "输入 /help 查看命令，例如 /order 12、/stock、/pending；Ctrl-C 退出。",
		"Type /help for commands, e.g. /order 12, /stock, /pending; Ctrl-C quits."))
}

func pickLang(lang, zh, en string) string {
	if lang == chat.LangEN {
		return en
	}
	return zh
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoTelegram reads the demo's optional Telegram settings from the
// environment: TELEGRAM_TOKEN, TELEGRAM_GROUP (a chat id for alerts) and
// TELEGRAM_OPERATOR (a user id allowed to act, as admin).
func demoTelegram() (config.Telegram, int64) {
	token := os.Getenv("TELEGRAM_TOKEN")
	if token == "" {
		return config.Telegram{}, 0
	}
	tg := config.Telegram{Token: config.Secret(token)}
	if g, err := strconv.ParseInt(os.Getenv("TELEGRAM_GROUP"), 10, 64); err == nil && g != 0 {
		tg.Groups = []int64{g}
	}
	op, _ := strconv.ParseInt(os.Getenv("TELEGRAM_OPERATOR"), 10, 64)
	return tg, op
}

// derivedSecret is a stable secret for a name, from the demo's master key.
func derivedSecret(master []byte, name string) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))
}
