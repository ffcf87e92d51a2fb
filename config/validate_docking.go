package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"cardflow/internal/money"
)

// protocol checks a storefront's protocol and its balance's credit limit.
// A Dujiao-Next shop's callback_url is checked like any other: only its
// origin is used, to check the callback URL each of its orders brings.
func (v *validator) protocol(key string, s Storefront) {
	switch s.Protocol {
	case ProtocolCardflow, ProtocolDujiaoNext, ProtocolDujiaoWebhook, ProtocolAcgFaka:
	default:
		v.add(key+".protocol", "%q is not a protocol; use %q (default), %q, %q or %q", s.Protocol,
			ProtocolCardflow, ProtocolDujiaoNext, ProtocolDujiaoWebhook, ProtocolAcgFaka)
		return
	}
	if s.Protocol == ProtocolAcgFaka {
		// Below the mcy plugin's 10 s and acg-faka's own 30 s timeouts.
		if w := s.SyncWindow.Std(); w < time.Second || w > 9*time.Second {
			v.add(key+".sync_window", "%s is out of range; use 1s to 9s (default 8s): the shop's own client gives up at 10s", w)
		}
		if p := s.ClaimPeriod.Std(); p < time.Minute || p > 30*24*time.Hour {
			v.add(key+".claim_period", "%s is out of range; use 1m to 720h (default 24h)", p)
		}
	} else {
		for name, d := range map[string]Duration{"sync_window": s.SyncWindow, "claim_period": s.ClaimPeriod} {
			if d != 0 {
				v.add(key+"."+name, "is for an acg-faka shop (protocol %q); remove it", ProtocolAcgFaka)
			}
		}
	}
	switch {
	case s.CreditLimit < 0 || s.CreditLimit > maxCredit:
		v.add(key+".credit_limit", "%s is out of range; use 0 (the default: no credit) to %s", s.CreditLimit, maxCredit)
	case s.CreditLimit != 0 && !s.Docking():
		v.add(key+".credit_limit", "only a docking shop (protocol %q, %q or %q) has a balance; remove credit_limit",
			ProtocolDujiaoNext, ProtocolDujiaoWebhook, ProtocolAcgFaka)
	}
}

// maxCredit bounds a docking shop's credit limit: a million yuan.
const maxCredit money.Amount = 100_000_000

// docked checks what a product offered to docking shops needs: a unique
// numeric id and a wholesale price, given together.
func (v *validator) docked(i int, p Product, ids map[uint32]int) {
	key := fmt.Sprintf("products[%d]", i)
	switch {
	case p.ID == 0 && p.Price == 0:
		if p.Category != "" || p.Description != "" {
			v.add(key+".id", "category and description are for docking shops; give the product an id and a price too, or remove them")
		}
		return
	case p.ID == 0:
		v.add(key+".id", "must be set with price: a stable number 1 to 4294967295 that docking shops order by, like id = 1001")
	case p.Price <= 0:
		v.add(key+".price", `must be set with id: the wholesale unit price charged to a docking shop's balance, like price = "9.50"`)
	}
	if j, dup := ids[p.ID]; p.ID != 0 && dup {
		v.add(key+".id", "%d is already the id of products[%d]; docking shops tell products apart by it", p.ID, j)
	} else if p.ID != 0 {
		ids[p.ID] = i
	}
	if len(p.Category) > 64 {
		v.add(key+".category", "has %d bytes; use at most 64", len(p.Category))
	}
	if len(p.Description) > 4096 {
		v.add(key+".description", "has %d bytes; use at most 4096", len(p.Description))
	}
	if p.Kind == KindDirect && (p.AccountLabel == "" || len(p.AccountLabel) > 64) {
		v.add(key+".account_label", "%q: a direct top-up names its account field for the buyer in 1 to 64 bytes, like account_label = %q",
			p.AccountLabel, DefaultAccountLabel)
	}
}

// bearer checks a generic-webhook shop's secret, which is also the Bearer
// token that alone tells the shop apart: no two may share one, and it may
// hold no space (a header could not carry it).
func (v *validator) bearer(key string, i int, s Storefront, tokens map[string]int) {
	if s.Protocol != ProtocolDujiaoWebhook {
		return
	}
	secret := s.Secret.Reveal()
	if secret == "" {
		return // reported as a missing secret
	}
	ref := v.c.storefrontSecretRef(i)
	if strings.IndexFunc(secret, unicode.IsSpace) >= 0 {
		v.add(ref.source(), "a dujiao-webhook shop's secret is its Bearer token and may not contain spaces; %s", genHint)
	}
	if j, dup := tokens[secret]; dup {
		v.add(ref.source(), "is the same secret as storefronts[%d]'s; each dujiao-webhook shop needs its own token", j)
		return
	}
	tokens[secret] = i
}
