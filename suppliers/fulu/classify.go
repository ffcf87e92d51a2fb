package fulu

import (
	"strings"

	"cardflow/suppliers"
)

// Codes that change what we do (docs/suppliers.md has the table); the fake
// gateway answers with these too.
const (
	CodeOK               = 0
	CodeBadParams        = 1000 // 1000–1003, 1005–1015, 1017, 1018: bad parameters or envelope
	CodeTimestamp        = 1004 // more than 10 minutes off
	CodeBadSign          = 1016
	CodeIPWhitelist      = 1019
	CodeBadMerchant      = 2002
	CodeMerchantConfig   = 2003
	CodeProductMissing   = 3001 // 3001–3004: missing, off shelf, maintenance
	CodeOutOfStock       = 3005
	CodeProductType      = 3008 // card product ordered as direct or the other way round
	CodeNoOrderNo        = 4000
	CodeNoBuyNum         = 4001
	CodeNoAccount        = 4002
	CodeAccountBlacklist = 4004
	CodeAddFailed        = 4008
	CodeAddTimeout       = 4009
	CodeOrderExists      = 4010
	CodeOrderNotFound    = 4011
	CodeQueryError       = 4012
	CodeSystemError      = 5000
)

// classifyAdd maps an add answer's code and message to a status and reason,
// as docs/suppliers.md tabulates. Anything not known to be definite is
// StatusUnknown: the order may exist, so the engine must query, never buy
// again elsewhere.
func classifyAdd(code int, message string) (suppliers.Status, string) {
	switch code {
	case CodeOK, CodeOrderExists:
		return suppliers.StatusPending, ""
	case CodeAddTimeout, CodeSystemError:
		// Explicitly "the outcome is unknown": no message changes that.
		return suppliers.StatusUnknown, ""
	}
	// "Add failed" because our prepaid balance ran out is definite: Fulu
	// refused before creating anything. Other unknown codes stay unknown
	// whatever their message says: only the table may say "not created".
	definiteCode := code >= 1000 && code <= 4004
	if balanceTooLow(message) && (code == CodeAddFailed || definiteCode) {
		return suppliers.StatusFailed, suppliers.ReasonBalance
	}
	switch {
	case code == CodeOutOfStock:
		return suppliers.StatusFailed, suppliers.ReasonOutOfStock
	case code == CodeAccountBlacklist:
		return suppliers.StatusFailed, suppliers.ReasonInvalidAccount
	case code >= 3001 && code <= 3004:
		return suppliers.StatusFailed, suppliers.ReasonProductUnavailable
	case code == CodeTimestamp, code == CodeBadSign, code == CodeIPWhitelist,
		code == CodeBadMerchant, code == CodeMerchantConfig, code == CodeProductType:
		return suppliers.StatusFailed, suppliers.ReasonConfig
	case code >= 1000 && code <= 1999, code >= CodeNoOrderNo && code <= CodeNoAccount:
		return suppliers.StatusFailed, suppliers.ReasonRejected
	}
	// 4008, 4009, 5000 and every code we do not know.
	return suppliers.StatusUnknown, ""
}

// codeClass names a code's class for Details of answers that are not
// classified as failures (e.g. a config error on a query).
func codeClass(code int) string {
	st, reason := classifyAdd(code, "")
	if st == suppliers.StatusFailed {
		return reason
	}
	return st.String()
}

// balanceTooLow recognises the ways a supplier says our prepaid account is
// empty. Fulu has no dedicated code for it in the published table.
func balanceTooLow(message string) bool {
	m := strings.ToLower(message)
	if strings.Contains(m, "余额") && (strings.Contains(m, "不足") || strings.Contains(m, "不够")) {
		return true
	}
	for _, s := range []string{"insufficient balance", "insufficient funds", "balance is not enough",
		"balance not enough", "not enough balance", "balance too low", "balance is too low"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
