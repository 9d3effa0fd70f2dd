package payments

import (
	"context"
	"slices"
	"testing"
)

func TestALinkedHintNamesItsQuestionAndNothingElse(t *testing.T) {
	q := LinkedQuestion{Marketplace: "TEST-MP1", Target: "CU1", Rel: "customer", Type: "merchants", Limit: 10}
	got, ok := ParseLinkedHint(LinkedHint(q))
	if !ok || got != q {
		t.Fatalf("ParseLinkedHint(LinkedHint(%+v)) = %+v, %v", q, got, ok)
	}
	// An ID is what a client sent: one shaped like a question, without the
	// process's token, stays an ID.
	forged := "\x00linked\x00TEST-MP1\x00CU1\x00customer\x00merchants\x001000000"
	for _, id := range []string{"", "CU1", "TEST-MP1", "linked", "\x00linked\x00a\x00b", "\x00linked\x00a\x00b\x00c\x00d\x00ten", forged} {
		if _, ok := ParseLinkedHint(id); ok {
			t.Errorf("ParseLinkedHint(%q) took it for a question", id)
		}
	}
}

// hintFeed is a balance feed that only hints.
type hintFeed struct{ noFeed }

func (hintFeed) Hint(marketplace, merchant string) []string {
	return []string{"feed:" + marketplace + "/" + merchant}
}

// A payment into an order the service has seen hints what its feed entry
// will ask; into one it has not, only what it locks.
func TestAPaymentIntoAKnownOrderHintsItsFeedsQuestions(t *testing.T) {
	s := &Service{feed: hintFeed{}}
	in := TxInput{Order: "OR1", Instrument: "CC1"}
	if hint := s.paymentHint("MP", in); !slices.Equal(hint, transactionHint("MP", in)) {
		t.Fatalf("unknown order: hint %q; want only what the payment locks", hint)
	}
	w := &Writer{tx: linksOnly{merchants: map[string]string{"OR1": "CU1"}}, orders: &s.orders}
	if m, err := w.merchantOf(context.Background(), "MP", "OR1"); err != nil || m != "CU1" {
		t.Fatalf("merchantOf: %q, %v", m, err)
	}
	if hint := s.paymentHint("MP", in); !slices.Contains(hint, "feed:MP/CU1") {
		t.Fatalf("known order: hint %q; want the feed's question for CU1 in it", hint)
	}
}

// linksOnly is a Tx that knows only orders' merchant links.
type linksOnly struct {
	Tx
	merchants map[string]string
}

func (l linksOnly) LinksOf(marketplace, id string) (string, map[string]string, bool) {
	m, ok := l.merchants[id]
	return "orders", map[string]string{"merchant": m}, ok
}
