package payments

import (
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
)

// LinkedQuestion is a LinkedTo question: the resources of Type whose link
// Rel names Target, in Marketplace, at most Limit of them.
type LinkedQuestion struct {
	Marketplace, Target, Rel, Type string
	Limit                          int
}

// linkedHintPrefix starts a hint that names a LinkedTo question instead
// of an ID. Hints carry IDs as clients sent them, so the prefix holds a
// token drawn when the process starts: no ID a client sends, whatever
// bytes it holds, reads as a question. Hints never leave the process.
var linkedHintPrefix = "\x00linked\x00" + rand.Text() + "\x00"

// LinkedHint names q in an operation's hint (see Service.Write). A store
// that sends a batch's locks in one round trip may ask q there too and
// keep the answer for the transaction, as LinkedTo keeps its own answers;
// one that does not ignores it. A hint names what an operation will most
// likely ask, and is never its only source: a question it names that the
// operation does not ask costs a read, and one it does not name costs the
// round trip it always did.
func LinkedHint(q LinkedQuestion) string {
	return linkedHintPrefix + strings.Join([]string{q.Marketplace, q.Target, q.Rel, q.Type, strconv.Itoa(q.Limit)}, "\x00")
}

// ParseLinkedHint returns the question a hint made by LinkedHint names;
// ok is false for any other hint (an ID).
func ParseLinkedHint(hint string) (q LinkedQuestion, ok bool) {
	rest, found := strings.CutPrefix(hint, linkedHintPrefix)
	if !found {
		return q, false
	}
	parts := strings.Split(rest, "\x00")
	if len(parts) != 5 {
		return q, false
	}
	limit, err := strconv.Atoi(parts[4])
	if err != nil {
		return q, false
	}
	return LinkedQuestion{Marketplace: parts[0], Target: parts[1], Rel: parts[2], Type: parts[3], Limit: limit}, true
}

// orderMerchants remembers the merchant of orders the service has seen,
// so that a payment into or out of a known order can hint what its balance
// feed entry will ask (BalanceFeed.Hint). An order's merchant is set when
// it is made and never changes; a remembered order that a rolled-back
// transaction made only costs a needless read.
type orderMerchants struct {
	mu sync.Mutex
	m  map[string]string
}

// maxKnownOrders bounds what orderMerchants keeps: past it, it starts over.
const maxKnownOrders = 1 << 16

func (o *orderMerchants) get(order string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.m[order]
	return m, ok
}

func (o *orderMerchants) put(order, merchant string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil || len(o.m) >= maxKnownOrders {
		o.m = make(map[string]string)
	}
	o.m[order] = merchant
}

// paymentHint is transactionHint with what the payment's balance feed
// entry will ask, when its order is one the service knows.
func (s *Service) paymentHint(marketplace string, in TxInput) []string {
	hint := transactionHint(marketplace, in)
	if in.Order == "" || s.feed == nil {
		return hint
	}
	if merchant, ok := s.orders.get(in.Order); ok && merchant != "" {
		hint = append(hint, s.feed.Hint(marketplace, merchant)...)
	}
	return hint
}
