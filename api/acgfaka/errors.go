package acgfaka

// Error is a refusal as the protocol carries it: HTTP 200 with
// {"code":0,"msg":Msg}. A shop shows Msg to its buyer word for word, so it
// is short, in Chinese, and says nothing an operator alone should read.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Refusals of requests this package parses. A handler adds its own with
// &Error{Msg: "..."}.
var (
	ErrUnknownApp  = &Error{Msg: "商户ID不存在"}    // no such app_id, or none sent
	ErrBadSign     = &Error{Msg: "密钥错误"}       // the signature does not verify
	ErrUnknownPath = &Error{Msg: "接口不存在"}      // not a /shared/* endpoint cardflow serves
	ErrTooLarge    = &Error{Msg: "请求数据过大"}     // a body over MaxBody
	ErrNoCode      = &Error{Msg: "商品代码不能为空"}   // no item code sent
	ErrNoItem      = &Error{Msg: "商品不存在"}      // a code no item has
	ErrBadNum      = &Error{Msg: "购买数量不正确"}    // num is not 1…MaxNum
	ErrNoOrderNo   = &Error{Msg: "订单号不能为空"}    // no request_no (trade) or tradeNo (query)
	ErrBadOrderNo  = &Error{Msg: "订单号格式不正确"}   // not 1–64 printable ASCII characters
	ErrNoDraft     = &Error{Msg: "该商品不支持预选"}   // a pre-selected card (card_id ≠ 0) or a draft endpoint
	ErrBadField    = &Error{Msg: "请求参数不正确"}    // a field too long, not UTF-8, or not a number where one is due
	ErrInternal    = &Error{Msg: "系统繁忙，请稍后再试"} // what any other error is answered with
)
