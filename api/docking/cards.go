package docking

import (
	"fmt"
	"strings"

	"cardflow/card"
	"cardflow/storage"
)

// CardLine writes a card as one line of a shop's delivery: the number, and
// its password and expiry after "----", the separator Chinese card shops
// read.
func CardLine(c card.Card) string {
	fields := []string{c.Number}
	if c.Password != "" || c.ExpiresAt != "" {
		fields = append(fields, c.Password)
	}
	if c.ExpiresAt != "" {
		fields = append(fields, c.ExpiresAt)
	}
	return strings.Join(fields, "----")
}

// CardLines opens sealed cards and writes each as a CardLine.
func CardLines(vault *storage.Vault, sealed []storage.SealedCard) ([]string, error) {
	cards, err := vault.OpenAll(sealed)
	if err != nil {
		return nil, fmt.Errorf("open cards: %w", err)
	}
	lines := make([]string, len(cards))
	for i, c := range cards {
		lines[i] = CardLine(c)
	}
	return lines, nil
}

// JoinLines joins lines the way a shop splits them: one per line. A line's
// own line breaks would split it, so they become spaces.
func JoinLines(lines []string) string {
	clean := make([]string, len(lines))
	for i, l := range lines {
		clean[i] = lineBreaks.Replace(l)
	}
	return strings.Join(clean, "\n")
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
