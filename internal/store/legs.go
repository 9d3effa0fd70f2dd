package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/ledger"
)

// encodeLegs writes a transfer's postings as "account currency amount"
// triples joined by commas. Account IDs and currency codes never hold a
// space or a comma (ledger.ValidAccountID), so the text splits back exactly.
func encodeLegs(postings []ledger.Posting) string {
	var b strings.Builder
	for i, p := range postings {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.AccountID)
		b.WriteByte(' ')
		b.WriteString(p.Currency)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(p.AmountMinor, 10))
	}
	return b.String()
}

func decodeLegs(s string) ([]ledger.Posting, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]ledger.Posting, len(parts))
	for i, part := range parts {
		f := strings.Split(part, " ")
		if len(f) != 3 {
			return nil, fmt.Errorf("store: malformed transfer legs %q", s)
		}
		amount, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: malformed amount in transfer legs %q", s)
		}
		out[i] = ledger.Posting{AccountID: f[0], Currency: f[1], AmountMinor: amount}
	}
	return out, nil
}
