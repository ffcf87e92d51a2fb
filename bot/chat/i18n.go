package chat

import "fmt"

// Languages operators can read.
const (
	LangZH = "zh"
	LangEN = "en"
)

// catalogue holds every operator-facing string: Simplified Chinese first,
// English second. Format verbs must match between the two.
var catalogue = map[string][2]string{
	// help_* are the lines of /help, one or more per command (the operator
	// layer's command table says which).
	"help_header":     {"可用命令（单号写作 #12 本系统单号、商城:商城单号，或只对应一个订单的单号）：", "Commands (name an order as #12, storefront:external_id, or a value only one order has):"},
	"help_order":      {"/order <单号> 查看订单", "/order <order> show an order"},
	"help_pending":    {"/pending 待审核与失败订单", "/pending review and failed queues"},
	"help_find":       {"/find <买家ID|联系方式> 查找买家的订单", "/find <buyer id|contact> a buyer's orders"},
	"help_approve":    {"/approve <单号> 批准", "/approve <order> approve"},
	"help_retry":      {"/retry <单号> 重试", "/retry <order> retry"},
	"help_refund":     {"/refund <单号> [原因] 退款（已发货订单需确认）", "/refund <order> [reason] refund (a delivered order asks to confirm)"},
	"help_reissue":    {"/reissue <单号> 补发新卡密（需确认）", "/reissue <order> send new card keys (asks to confirm)"},
	"help_confirm":    {"/confirm <确认码> 确认退款或补发", "/confirm <code> confirm a refund or reissue"},
	"help_stats":      {"/stats [today|yesterday|7d] 统计", "/stats [today|yesterday|7d] figures"},
	"help_report":     {"/report [today|yesterday|7d] 报表与图表", "/report [today|yesterday|7d] report with chart"},
	"help_stock":      {"/stock [sku] 库存", "/stock [sku] stock levels"},
	"help_suppliers":  {"/suppliers 供货商状态", "/suppliers supplier state"},
	"help_balance":    {"/balance [商城] 对接商城的预存余额", "/balance [shop] docking shops' prepaid balances"},
	"help_credit":     {"/credit <商城> <金额> [原因] 充值或扣减余额（管理员，负数为扣减）", "/credit <shop> <amount> [reason] top up or debit a balance (admins; negative debits)"},
	"help_pause":      {"/pause <供货商|sku> 暂停", "/pause <supplier|sku> pause"},
	"help_resume":     {"/resume <供货商|sku> 恢复", "/resume <supplier|sku> resume"},
	"help_rules":      {"/rules 规则与命中", "/rules rules and hits"},
	"help_rules_test": {"/rules test <表达式> 用近7天订单试算（操作员）", "/rules test <expr> try on the last 7 days (operators)"},
	"help_rules_set":  {"/rules set <名> <review|refund|allow> <表达式>", "/rules set <name> <review|refund|allow> <expr>"},
	"help_rules_off":  {"/rules off <名>", "/rules off <name>"},
	"help_audit":      {"/audit [n] 操作记录", "/audit [n] audit log"},
	"help_silence":    {"/silence <提醒> <时长> 静音某条提醒；整类提醒仅管理员、最长 24 小时；待审核与失败订单不可静音", "/silence <alert> <duration> mute one alert; a whole type: admins, up to 24h; review prompts and failed orders cannot be muted"},
	"help_bind":       {"/bind <操作员> 生成 QQ 绑定码（管理员，仅私聊）", "/bind <operator> a QQ bind code (admins, private chat only)"},
	"help_unbind":     {"/unbind <操作员> 解除其 QQ 绑定（管理员）", "/unbind <operator> remove their QQ bindings (admins)"},
	"help_inbox":      {"/inbox 在 QQ 里收取待发送的提醒", "/inbox on QQ, fetch the alerts waiting"},
	"help_help":       {"/help 帮助", "/help this help"},

	"bind_bad":              {"绑定码无效、已使用或已过期。请向管理员重新获取。", "That bind code is unknown, used or expired; ask an admin for a new one."},
	"bind_ok":               {"✅ 已绑定为操作员 %s（%s）。", "✅ You are now operator %s (%s) here."},
	"bind_unknown_operator": {"配置中没有操作员 %s。", "There is no operator %s in the config."},
	"bind_code":             {"操作员 %s 的绑定码：%s（%s 前有效，仅可使用一次）。请在 QQ 群里 @机器人 发送：/bind %[2]s", "Bind code for %s: %s (valid until %s, once). In the QQ group, @ the bot with: /bind %[2]s"},
	"bind_private":          {"绑定码只在私聊中发放：群里的任何人都能抢先使用它。请私聊机器人发送 /bind <操作员>（或在控制台、管理 API 获取）。", "Bind codes are only given in a private chat: anyone in a group could use one first. Send /bind <operator> to the bot privately (or use the console or the admin API)."},
	"bind_wait":             {"尝试次数过多，请一分钟后再试。", "Too many tries; wait a minute."},
	"unbound":               {"已解除操作员 %s 绑定的 %d 个身份，其未使用的绑定码已作废。", "Operator %s: %d bound identities removed, unused codes void."},
	"ref_ambiguous":         {"「%s」对应 %d 个订单，未执行任何操作：", "%s names %d orders; nothing was done:"},
	"ref_hint":              {"请指明是哪一个：", "Say which one:"},
	"confirm_refund":        {"⚠️ 订单 #%d 已发货，确认退款？", "⚠️ Order #%d was delivered. Refund it?"},
	"confirm_reissue":       {"⚠️ 订单 #%d 已发货，确认补发新卡密？", "⚠️ Order #%d was delivered. Send new card keys?"},
	"confirm_order":         {"商城 %s · 商城单号 %s · ¥%s · %s 发货", "Storefront %s · order %s · ¥%s · delivered %s"},
	"confirm_note":          {"原因：%s", "Reason: %s"},
	"confirm_hint":          {"%d 分钟内由 %s 确认有效。", "Valid for %d minutes, for %s only."},
	"btn_confirm_refund":    {"确认退款 #%d", "Confirm refund #%d"},
	"btn_confirm_reissue":   {"确认补发 #%d", "Confirm reissue #%d"},
	"confirm_gone":          {"这个确认已失效（已使用、已过期或服务已重启）。请重新发送命令。", "That confirmation is used, expired or lost in a restart; type the command again."},
	"confirm_not_yours":     {"只有 %s 可以确认这个操作。", "Only %s can confirm this."},
	"silence_unknown":       {"没有可静音的提醒 %s。请用提醒的完整名称（如 supplier_down:fulu），或（管理员）整类提醒名称（如 low_stock）。", "No alert %s to silence. Use an alert's full key (like supplier_down:fulu) or, as an admin, an alert type (like low_stock)."},
	"silence_work":          {"待审核和失败订单是待办事项，不能静音：请处理它们（/pending）。", "Review prompts and failed orders are work, not noise: they cannot be silenced. Act on them (/pending)."},
	"qq_inbox":              {"📥 待发送 %d 条，马上发出。", "📥 %d waiting; sending now."},
	"qq_no_chart":           {"（图表请在 Telegram 或控制台查看）", "(the chart is on Telegram or the console)"},
	"qq_type_commands":      {"请 @机器人 发送：", "@ the bot with:"},
	"btn_next_batch":        {"下一批", "Next batch"},
	"period_today":          {"今日", "Today"},
	"period_yesterday":      {"昨日", "Yesterday"},
	"period_7d":             {"近7天", "Last 7 days"},
	"list_sep":              {"，", ", "},
	"stats_title":           {"📊 %s（%s – %s）", "📊 %s (%s – %s)"},
	"stats_orders":          {"订单 %d 笔，实收 ¥%s", "Orders %d, paid ¥%s"},
	"stats_outcomes":        {"已发货 %d ｜ 退款 %d ｜ 失败 %d ｜ 成功率 %.1f%%", "Delivered %d | refunded %d | failed %d | success %.1f%%"},
	"stats_money":           {"供货成本 ¥%s ｜ 毛利 ¥%s", "Supplier cost ¥%s | margin ¥%s"},
	"stats_delivery":        {"发货耗时：中位 %s ｜ P95 %s", "Time to delivery: median %s | p95 %s"},
	"stats_reviews":         {"人工审核 %d 笔，等待中位 %s", "Held for review %d, median wait %s"},
	"stats_reasons":         {"主要失败原因：%s", "Top failure reasons: %s"},
	"stats_rules":           {"规则命中：%s", "Rule hits: %s"},
	"report_suppliers":      {"🏭 供货商：", "🏭 Suppliers:"},
	"report_supplier":       {"  %s 成功率 %.1f%%（%d/%d），P95 %s，坏卡 %d，结果未知 %.1f%%，成本 ¥%s", "  %s success %.1f%% (%d/%d), p95 %s, bad cards %d, unknown %.1f%%, cost ¥%s"},
	"report_low_stock":      {"📉 库存偏低：%s", "📉 Low stock: %s"},
	"report_stock_error":    {"📉 库存读取失败", "📉 Stock levels unavailable"},
	"report_reconcile":      {"🧾 对账：实收 ¥%s = 已发货 ¥%s + 退款 ¥%s + 失败 ¥%s + 处理中 ¥%s", "🧾 Reconciliation: paid ¥%s = delivered ¥%s + refunded ¥%s + failed ¥%s + open ¥%s"},
	"report_balance":        {"  %s 余额减少 ¥%s，采购 ¥%s", "  %s balance fell ¥%s, purchases ¥%s"},
	"report_reconcile_ok":   {"✅ 账目一致", "✅ Everything adds up"},
	"report_reconcile_bad":  {"⚠️ 对账不一致：%s", "⚠️ Mismatch: %s"},
	"alert_reconcile":       {"⚠️ 对账不一致（%d 项）：%s。请核查。", "⚠️ Reconciliation mismatch (%d): %s. Please check."},
	"alert_verify_on":       {"🔎 供货商 %s 坏卡比例异常（%s），已开启二次校验：其卡密发货前将再次查询核对。", "🔎 Supplier %s sends bad cards too often (%s); second verification is on: its cards are re-checked before delivery."},
	"alert_verify_off":      {"✅ 供货商 %s 坏卡比例已恢复，二次校验已关闭。", "✅ Supplier %s is back to normal; second verification is off."},
	"supplier_score":        {"，近1小时成功率 %.0f%%（%d/%d），P95 %s，坏卡 %.1f%%，未知 %.1f%%，成本 ¥%s，评分 %.2f", ", last hour: success %.0f%% (%d/%d), p95 %s, bad cards %.1f%%, unknown %.1f%%, cost ¥%s, score %.2f"},
	"supplier_verifying":    {"，二次校验中", ", second verification on"},
	"daily_report_title":    {"日报", "Daily report"},
	"suppliers_header":      {"🏭 供货商", "🏭 Suppliers"},
	"supplier_line":         {"%s（%s）：%s", "%s (%s): %s"},
	"supplier_up":           {"正常", "up"},
	"supplier_down":         {"故障（已熔断）", "down (circuit open)"},
	"supplier_probing":      {"恢复探测中", "probing"},
	"supplier_paused":       {"已暂停", "paused"},
	"supplier_bad":          {"，坏卡 %d 张", ", %d bad cards"},
	"supplier_balance":      {"，余额 ¥%s", ", balance ¥%s"},

	// Claims steer suppliers: upheld claims in /suppliers, /stock, /stats
	// and the daily report.
	"supplier_claims":         {"，售后成立 %d 张", ", %d cards in upheld claims"},
	"stock_batches":           {"  售后成立：%s", "  upheld claims: %s"},
	"stock_batch":             {"批次 #%d %d 张", "batch #%d %d cards"},
	"stock_batch_none":        {"批次前 %d 张", "before batches %d cards"},
	"stats_claims":            {"售后：新增 %d ｜ 已处理 %d ｜ 成立 %d（%.0f%%）", "Claims: opened %d | resolved %d | upheld %d (%.0f%%)"},
	"stats_claims_time":       {" ｜ 处理用时中位 %s", " | median time to resolve %s"},
	"report_claims":           {"🧾 售后（成立/已处理）：", "🧾 Claims (upheld/resolved):"},
	"report_claims_suppliers": {"  按供货商（卡密）：%s", "  by supplier (cards): %s"},
	"report_claims_skus":      {"  按商品：%s", "  by SKU: %s"},
	"report_claims_count":     {"%s %d/%d（%.0f%%）", "%s %d/%d (%.0f%%)"},
	"report_claims_worst":     {"  成立最多：%s", "  Most upheld: %s"},
	"claims_worst_supplier":   {"供货商 %s（%d 张）", "supplier %s (%d cards)"},
	"claims_worst_sku":        {"商品 %s（%d 单）", "SKU %s (%d claims)"},
	"import_batch":            {"（批次 #%d）", " (batch #%d)"},

	"alert_balance":         {"💰 供货商 %s 余额不足：¥%s，请及时充值。", "💰 Supplier %s balance is low: ¥%s; top it up."},
	"alert_shop_balance":    {"🏪 对接商城 %s 余额不足一天用量：%s。请提醒店主充值（/credit）。", "🏪 Docking shop %s's balance is below a day of its orders: %s. Ask the owner to top up (/credit)."},
	"alert_unclaimed":       {"📭 订单 #%d（%s）对接商城始终未取回结果，已退回其余额；退回库存的卡密 %s。", "📭 Order #%d (%s) was never claimed by its docking shop: refunded to its balance; card keys back in stock %s."},
	"alert_shop_balance_ok": {"🏪 对接商城 %s 余额已够一天用量：%s。", "🏪 Docking shop %s's balance covers a day of its orders again: %s."},
	"alert_balance_ok":      {"💰 供货商 %s 余额已恢复：¥%s。", "💰 Supplier %s balance is back to ¥%s."},
	"pause_unknown":         {"没有名为 %s 的供货商或商品。", "No supplier or product named %s."},
	"paused":                {"⏸ %s 已由 %s 暂停。", "⏸ %s paused by %s."},
	"resumed":               {"▶️ %s 已由 %s 恢复。", "▶️ %s resumed by %s."},
	"btn_pause":             {"暂停", "Pause"},
	"alert_sup_down":        {"🔴 供货商 %s 连续无响应，已熔断；新订单改走其他渠道。", "🔴 Supplier %s stopped answering; new orders go elsewhere."},
	"alert_sup_up":          {"🟢 供货商 %s 已恢复。", "🟢 Supplier %s answers again."},
	"alert_dup_card":        {"⚠️ 供货商 %s 给订单 #%d 发了重复卡密，已拦截并改从其他渠道补购。", "⚠️ Supplier %s sent a duplicate card for order #%d; it was held back and the order is bought again."},
	"rules_none":            {"本服务没有启用规则引擎。", "The rule engine is not running here."},
	"rules_empty":           {"没有启用中的规则：所有订单直接处理。", "No rules: every order goes straight on."},
	"rules_header":          {"📏 规则（命中：今日 / 近7天）", "📏 Rules (hits: today / 7 days)"},
	"rule_off":              {"（已关闭）", " (off)"},
	"rule_changed":          {"（%s 于 %s 修改）", " (changed by %s at %s)"},
	"rule_invalid":          {"规则无效：%v", "Invalid rule: %v"},
	"rule_unknown":          {"没有名为 %s 的规则。", "No rule named %s."},
	"rule_saved":            {"✅ 规则 %s 已保存并立即生效。", "✅ Rule %s saved; it applies from now on."},
	"rule_test":             {"📏 最近 7 天 %d 单中，有 %d 单会命中。", "📏 Of the last 7 days' %d orders, %d would match."},
	"rule_examples":         {"例如：%s", " For example: %s"},
	"rule_failed_runs":      {"（%d 单运行出错，按未命中计）", " (%d failed to run; counted as no match)"},
	"audit_empty":           {"审计日志为空。", "The audit log is empty."},
	"audit_header":          {"🧾 最近 %d 条操作记录", "🧾 The last %d audit entries"},
	"alert_repeat":          {"（又发生 %d 次）", "(%d more times) "},
	"digest_reviews":        {"🔍 %d 笔订单待审核：", "🔍 %d orders wait for review:"},
	"digest_more":           {"  …另有 %d 条", "  …and %d more"},
	"digest_pending":        {"发送 /pending 查看全部并逐一处理。", "Send /pending to see them all and act on each."},
	"digest_alerts":         {"⚠️ %d 条提醒：", "⚠️ %d alerts:"},
	"import_done":           {"📥 %s：新增 %d，重复 %d，无效 %d", "📥 %s: %d added, %d duplicates, %d invalid"},
	"import_broken":         {"文件没有读完，已导入前 %d 张；请重新发送（重复的会被跳过）。", "The file broke off after %d cards; send it again (duplicates are skipped)."},
	"alert_low":             {"📉 %s 库存偏低：剩 %d。", "📉 %s is running low: %d left."},
	"alert_low_ok":          {"📦 %s 库存已补足：%d。", "📦 %s is stocked again: %d."},
	"alert_backlog":         {"⏳ 待发送的回调和通知积压：%s。请检查商城回调地址和聊天通道。", "⏳ Callbacks and notices are piling up: %s. Check the storefront callback URL and the chat channels."},
	"alert_backlog_ok":      {"✅ 积压已清空。", "✅ The backlog has drained."},
	"alert_reload":          {"⚠️ 配置重新加载失败，沿用旧规则：%s", "⚠️ Config reload refused, the old rules stay: %s"},
	"alert_reload_ok":       {"✅ 规则已重新加载。", "✅ Rules reloaded."},
	"btn_silence":           {"静音1小时", "Silence 1h"},
	"silenced":              {"🔕 %s 已静音至 %s（%s）。", "🔕 %s silenced until %s (by %s)."},
	"unknown_command":       {"未知命令 %s，发送 /help 查看可用命令。", "Unknown command %s; send /help for the list."},
	"usage":                 {"用法：%s", "Usage: %s"},
	"not_found":             {"找不到订单 %s。", "No order %s."},
	"not_operator":          {"抱歉，您不是本店的操作员，无法执行此操作。", "Sorry, you are not an operator of this shop."},
	"not_allowed":           {"抱歉，您的角色（%s）不能执行 %s。", "Sorry, your role (%s) cannot %s."},
	"internal":              {"出错了，请稍后再试（已记录日志）。", "Something went wrong; please try again (it is logged)."},
	"done_approve":          {"✅ 订单 #%d 已由 %s 批准，进入发货队列。", "✅ Order #%d approved by %s; it is on its way."},
	"done_retry":            {"🔁 订单 #%d 已由 %s 重新提交处理。", "🔁 Order #%d sent back to fulfilment by %s."},
	"done_refund":           {"↩️ 订单 #%d 已由 %s 退款。", "↩️ Order #%d refunded by %s."},
	"done_reissue":          {"🔄 订单 #%d 已由 %s 安排补发新卡密。", "🔄 Order #%d: new card keys on the way (by %s)."},
	"already":               {"订单 #%d 当前为「%s」，已由 %s 于 %s %s。", "Order #%[1]d is %[2]s: already %[5]s by %[3]s at %[4]s."},
	"stock_header":          {"📦 库存", "📦 Stock"},
	"report_shops":          {"🏪 对接商城", "🏪 Docking shops"},
	"report_shop":           {"%s：%d 单，消费 %s 元，余额 %s 元", "%s: %d orders, spent %s yuan, balance %s yuan"},
	"balance_header":        {"💰 对接商城余额", "💰 Docking shops' balances"},
	"balance_line":          {"%s：%s 元（可透支 %s 元）", "%s: %s yuan (credit %s yuan)"},
	"balance_none":          {"没有对接商城。", "No docking shops are configured."},
	"balance_unknown":       {"没有对接商城 %s。发送 /balance 查看全部。", "No docking shop %s; send /balance for all."},
	"credit_done":           {"✅ %s 余额 %s%s 元，现为 %s 元（%s，%s）。", "✅ %s balance %s%s yuan, now %s yuan (%s, by %s)."},
	"credit_bad_amount":     {"金额 %s 无效：写作 1000.00，扣减写作 -50.00。", "Amount %s is not valid: write 1000.00, or -50.00 to debit."},
	"stock_line":            {"%s %s：%d", "%s %s: %d"},
	"stock_low":             {"（低于 %d）", " (below %d)"},
	"stock_waiting":         {"，%d 单等待补货", ", %d orders waiting"},
	"stock_none":            {"没有自有库存商品。", "No products are sold from own stock."},
	"pending_header":        {"待处理：审核 %d 单，失败 %d 单", "Waiting for a person: %d in review, %d failed"},
	"pending_none":          {"没有待处理的订单。🎉", "Nothing is waiting for a person. 🎉"},
	"pending_more":          {"…另有 %d 单", "…and %d more"},
	"find_header":           {"买家 %s 的订单：共 %d 单（查看了最近 %d 单）", "Orders of buyer %s: %d (of the newest %d orders)"},
	"find_none":             {"最近 %[2]d 单中没有买家 %[1]s 的订单。", "No order of buyer %[1]s among the newest %[2]d orders."},
	"find_capped":           {" 更早的订单未查看。", " Older orders were not searched."},
	"order_title":           {"订单 #%d · %s ×%d · ¥%s", "Order #%d · %s ×%d · ¥%s"},
	"order_status":          {"状态：%s", "Status: %s"},
	"order_reason":          {"原因：%s", "Reason: %s"},
	"order_external":        {"商城单号：%s（%s）", "Storefront order: %s (%s)"},
	"order_buyer":           {"买家：%s", "Buyer: %s"},
	"order_account":         {"充值账号：%s", "Account: %s"},
	"order_cards":           {"卡密：%s", "Cards: %s"},
	"order_created":         {"下单：%s", "Placed: %s"},
	"order_delivered":       {"发货：%s", "Delivered: %s"},
	"order_history":         {"记录：", "History:"},
	"btn_approve":           {"批准", "Approve"},
	"btn_refund":            {"退款", "Refund"},
	"btn_retry":             {"重试", "Retry"},
	"btn_details":           {"详情", "Details"},
	"alert_oos":             {"⚠️ 缺货：%s 库存不足（剩 %d），订单 #%d 等待补货。", "⚠️ Out of stock: %s has %d left; order #%d is waiting."},
	"alert_oos_ok":          {"✅ 已补货：%s 现有库存 %d。", "✅ Restocked: %s now has %d."},
	"alert_review":          {"🔍 订单 #%d（%s）待审核：%s", "🔍 Order #%d (%s) needs review: %s"},
	"alert_review_done":     {"订单 #%d 已由 %s %s。", "Order #%d %[3]s by %[2]s."},
	"alert_failed_done":     {"订单 #%d 已由 %s %s。", "Order #%d %[3]s by %[2]s."},
	"stock_unknown":         {"没有自有库存商品 %s。发送 /stock 查看全部。", "No own-stock product %s; send /stock for all."},
	"alert_failed":          {"❌ 订单 #%d（%s）自动处理失败：%s，需要人工处理。", "❌ Order #%d (%s) failed: %s. A person must decide."},
	"alert_cb":              {"⚠️ 商城 %s 的回调持续失败超过 24 小时（订单 #%d）：%s", "⚠️ Callbacks to storefront %s have failed for over 24 h (order #%d): %s"},
	"alert_cb_redirect":     {"⚠️ 商城 %s 的回调地址返回了重定向，回调未送达（订单 #%d）：%s。重定向不会被跟随：请把 callback_url 改为最终地址并重启。", "⚠️ Callbacks to storefront %s are answered with a redirect and not delivered (order #%d): %s. Redirects are never followed: set callback_url to the final address and restart."},
	"alert_cb_ok":           {"✅ 商城 %s 的回调已恢复。", "✅ Callbacks to storefront %s work again."},
	"alert_mail":            {"⚠️ 邮件服务器 %s 发信失败，买家邮件排队重试中：%s", "⚠️ The mail server %s is failing; buyers' mails wait and are retried: %s"},
	"alert_mail_ok":         {"✅ 邮件服务器 %s 已恢复发信。", "✅ The mail server %s sends again."},
	"alert_mail_rejected":   {"⚠️ 商城 %s 订单 #%d 的买家邮件被邮件服务器拒收，已放弃：%s", "⚠️ The buyer's mail of storefront %s for order #%d was refused by the mail server and given up: %s"},
	"alert_generic":         {"⚠️ %s：%s", "⚠️ %s: %s"},
	"chat_folded":           {"📭 另有 %d 条提醒因积压未能送达，已合并为本条。待处理的订单请发 /pending 查看，日报请发 /report。", "📭 %d more notices piled up undelivered and were folded into this one. Send /pending for the orders waiting for a person, /report for the report."},
	"alert_inbound_parked":  {"⚠️ %s 的一条消息（%s）处理失败，已搁置不再重试；详情见 /audit 与服务日志。", "⚠️ A %s event (%s) could not be handled and was set aside; see /audit and the service log."},
	"alert_inbound_ok":      {"✅ %s 消息处理已恢复正常。", "✅ %s events are handled again."},
	"alert_storage_lost":    {"⚠️ 数据库自 %s 起无法连接：期间新订单返回 503，处理暂停。", "⚠️ The database could not be reached from %s: new orders were answered 503 and work waited."},
	"storage_away_live":     {"⚠️ 进程 %s 自 %s 起无法连接数据库：新订单返回 503，处理暂停，恢复后自动继续。这条消息未经数据库直接发出，恢复后会另有告警说明中断多久。", "⚠️ Process %s cannot reach the database since %s: new orders are answered 503 and work waits; it resumes by itself. This message bypassed the database; an alert saying how long the outage lasted follows once it answers."},
	"alert_storage_ok":      {"✅ 数据库已恢复（中断 %s），处理已继续。", "✅ The database answers again (lost for %s); work goes on."},
	"alert_generic_ok":      {"✅ 已恢复：%s", "✅ Resolved: %s"},
	// Rule limits: a test's partial result, one test at a time, a rule switched off for its cost.
	"rule_test_capped":   {"（7 天内订单超过 %[1]d 单，只试了最近的 %[1]d 单）", " (only the newest %d of the last 7 days' orders were tried)"},
	"rule_test_stopped":  {"⚠️ 测试超过 %s 时限已停止，以上只是部分结果。", " ⚠️ The test stopped at its %s time limit: this is a partial result."},
	"rule_test_busy":     {"已有一个规则测试正在运行，请等它结束后再试。", "A test is already running; try again when it has finished."},
	"alert_rule_off":     {"⚠️ 规则 %s 在订单 #%d 上超出限额（%s），已自动关闭；请用 /rules test 检查，再用 /rules set 重新设置。", "⚠️ Rule %s went over its limits on order #%d (%s) and is switched off; check it with /rules test and set it again with /rules set."},
	"alert_rule_refused": {"⚠️ 规则 %s 超出限额（%s），已停用；请用 /rules set 改写。", "⚠️ Rule %s is over its limits (%s) and is off; rewrite it with /rules set."},
	"alert_rule_off_ok":  {"✅ 规则 %s 已重新设置。", "✅ Rule %s was set again."},
	// After-sale claims: the prompt, its buttons, and the answers to them.
	"alert_claim":               {"🧾 售后：订单 #%d · %s ×%d · %s", "🧾 Claim: order #%d · %s ×%d · %s"},
	"claim_what":                {"%s（%d 张）", "%s (%d cards)"},
	"claim_what_all":            {"%s（未指明卡密）", "%s (no card named)"},
	"claim_history_none":        {"该买家此前无售后", "This buyer made no claim before"},
	"alert_claim_done":          {"✅ 售后 #%d（订单 #%d）已由 %s 处理：%s", "✅ Claim #%d (order #%d) resolved by %s: %s"},
	"claim_message":             {"买家留言：%s", "Buyer says: %s"},
	"claim_sources":             {"卡密来源：%s", "Cards from: %s"},
	"claim_history":             {"该买家此前售后 %d 次", "This buyer's earlier claims: %d"},
	"claim_reason_card_invalid": {"卡密无效", "card invalid"},
	"claim_reason_not_received": {"未到账", "not received"},
	"claim_reason_wrong_item":   {"商品不符", "wrong item"},
	"claim_reason_other":        {"其他", "other"},
	"btn_claim_reissue":         {"补发", "Reissue"},
	"btn_claim_refund":          {"退款", "Refund"},
	"btn_claim_reject":          {"驳回", "Reject"},
	"claim_done":                {"✅ 售后 #%d（订单 #%d）已由 %s %s。", "✅ Claim #%d (order #%d) %[4]s by %[3]s."},
	"claim_already":             {"售后 #%d 已由 %s 于 %s 处理（%s）。", "Claim #%d was already resolved by %s at %s (%s)."},
	"claim_not_found":           {"找不到售后 #%s。", "No claim #%s."},
	"help_claim":                {"/claim <售后号> <reissue|refund|reject> [备注] 处理售后（补发需管理员，驳回需写理由）", "/claim <claim> <reissue|refund|reject> [note] resolve an after-sale claim (reissue: admins; reject: give a reason)"},
	// Claims worked from chat: /claims, /reject, and the claims /order shows.
	"help_claims":           {"/claims 待处理的售后（最早的在前）", "/claims open after-sale claims, oldest first"},
	"help_reject":           {"/reject <单号> <理由> 驳回该订单的售后，理由会告知商城", "/reject <order> <reason> reject the order's claim; the storefront hears the reason"},
	"claims_none":           {"没有待处理的售后。", "No open claims."},
	"claims_header":         {"🧾 待处理售后 %d 件（最早的在前）：", "🧾 %d open claims, oldest first:"},
	"claims_line":           {"#%d %s · %s · %s前 · 售后 %d", "#%d %s · %s · %s ago · claim %d"},
	"claims_says":           {" · 买家：%s", " · buyer: %s"},
	"claims_hint":           {"处理：/claim <售后号> reissue|refund，驳回：/reject <单号> <理由>", "Resolve: /claim <claim> reissue|refund; reject: /reject <order> <reason>"},
	"claim_reason_needed":   {"驳回售后需要写明理由（会告知商城），请发送：\n%s <理由>", "A rejection needs a reason (the storefront hears it); send:\n%s <reason>"},
	"claim_note_bad":        {"备注至多 %d 字，且不能含控制字符（%s），未处理。", "A note is at most %d characters of plain text (%s); nothing was done."},
	"claim_none_on_order":   {"订单 #%d 没有售后。", "Order #%d has no claim."},
	"order_claims":          {"售后：", "Claims:"},
	"order_claims_unread":   {"售后：读取失败，请稍后再试。", "Claims: could not be read; try again."},
	"order_claim":           {"  售后 %d · %s · %s · %s", "  claim %d · %s · %s · %s"},
	"order_claim_by":        {" · %s 于 %s 处理", " · by %s at %s"},
	"order_claim_note":      {" · 备注：%s", " · note: %s"},
	"claim_status_open":     {"待处理", "open"},
	"claim_status_reissued": {"已补发", "reissued"},
	"claim_status_refunded": {"已退款", "refunded"},
	"claim_status_rejected": {"已驳回", "rejected"},
}

// statusNames are the order states as operators read them.
var statusNames = map[string][2]string{
	"pending":    {"处理中", "pending"},
	"review":     {"待审核", "in review"},
	"processing": {"采购中", "processing"},
	"delivered":  {"已发货", "delivered"},
	"failed":     {"失败", "failed"},
	"refunded":   {"已退款", "refunded"},
}

// actionNames are past-tense verbs for "already approved by alice", keyed by
// processor.ActionOf.
var actionNames = map[string][2]string{
	"approve": {"批准", "approved"},
	"retry":   {"重试", "retried"},
	"reissue": {"补发", "reissued"},
	"refund":  {"退款", "refunded"},
	"deliver": {"发货", "delivered"},
	"fail":    {"标记失败", "failed"},
	"hold":    {"转人工审核", "held for review"},
	"accept":  {"接单", "accepted"},
	"wait":    {"转入等待", "set waiting"},
	"process": {"提交供货商", "sent to a supplier"},
	"reject":  {"驳回", "rejected"},
}

// ActionName is a processor.ActionOf name in lang, past tense.
func ActionName(lang, action string) string {
	if pair, ok := actionNames[action]; ok {
		return pick(lang, pair)
	}
	return action
}

// T formats a catalogue string in lang (Chinese unless lang is "en").
func T(lang, key string, args ...any) string {
	pair, ok := catalogue[key]
	if !ok {
		return key
	}
	s := pair[0]
	if lang == LangEN {
		s = pair[1]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

func pick(lang string, pair [2]string) string {
	if lang == LangEN {
		return pair[1]
	}
	return pair[0]
}

// StatusName is an order status in lang.
func StatusName(lang, status string) string {
	if pair, ok := statusNames[status]; ok {
		return pick(lang, pair)
	}
	return status
}

// ruleActions are the actions a rule takes, as /rules lists them.
var ruleActions = map[string][2]string{"review": {"人工审核", "review"}, "refund": {"拒单退款", "refund"}, "allow": {"放行", "allow"}}

// RuleActionName is a rule's action (review, refund, allow) in lang.
func RuleActionName(lang, action string) string {
	if pair, ok := ruleActions[action]; ok {
		return pick(lang, pair)
	}
	return action
}
