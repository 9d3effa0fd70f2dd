package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Credits is the HTTP load's third shape: credits to the merchant's bank
// account, all out of one funded order, so that every one is checked
// against the same hot balance. (Spread and Hot over HTTP are card debits
// into many orders and into one.)
const Credits Shape = "credits"

// Amounts of the HTTP load.
const (
	// opAmountMinor is every debit's and credit's amount: a dollar, small
	// enough that the credit order's funding lasts any run.
	opAmountMinor = 100
	// creditFundingMinor is what the credit order holds before credits
	// start: the largest single debit the API takes, ten million credits.
	creditFundingMinor = 1_000_000_000
	// setupClients is how many requests setup and the escrow check send at
	// once: enough to make thousands of orders in seconds, few enough to
	// leave the server responsive.
	setupClients = 16
)

// Test-mode instruments that always succeed (Balanced's documented test
// numbers): a Visa card and a bank account whose credits settle.
const (
	testCardNumber    = "4111111111111111"
	testAccountNumber = "9900000002"
	testRoutingNumber = "021000021"
)

// Marketplace is what the HTTP load runs against, made through the API
// before anything is timed: an API key and its marketplace, a merchant with
// a bank account, one tokenized card, the orders debits go into and one
// funded order credits are paid out of. It counts what the server
// acknowledged for each order, so that the escrow can be checked afterwards.
type Marketplace struct {
	api         *apiClient
	id          string
	card        string
	bankAccount string
	// orders are the spread orders, then the hot order, then the order
	// credits come out of.
	orders      []*orderTally
	spread      int
	startEscrow int64
}

// orderTally is one order and what the load did to it.
type orderTally struct {
	id string
	// body is the request every debit into, or credit out of, this order
	// sends.
	body []byte
	// startMinor is the order's escrow before any case ran.
	startMinor int64
	// sign is +1 for an order debits pay into, -1 for one credits pay out of.
	sign int64
	// acknowledged operations answered 2xx; unknown ones had no answer or
	// an error that may have come after the commit, so they may or may not
	// have moved money.
	acknowledged atomic.Int64
	unknown      atomic.Int64
}

func (m *Marketplace) hot() *orderTally          { return m.orders[m.spread] }
func (m *Marketplace) creditSource() *orderTally { return m.orders[m.spread+1] }

// SetUp makes a marketplace on the server at baseURL with spreadOrders
// orders for the spread shape.
func SetUp(ctx context.Context, baseURL string, spreadOrders int) (*Marketplace, error) {
	if spreadOrders < 1 {
		return nil, errors.New("at least one order is needed")
	}
	api := &apiClient{base: baseURL, http: newHTTPClient(setupClients)}
	key, err := api.one(ctx, http.MethodPost, "/api_keys", "api_keys", nil, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	if api.secret, _ = key["secret"].(string); api.secret == "" {
		return nil, errors.New("POST /api_keys: no secret")
	}
	m := &Marketplace{api: api, spread: spreadOrders}
	if m.id, err = api.create(ctx, "/marketplaces", "marketplaces", nil); err != nil {
		return nil, err
	}
	merchant, err := api.create(ctx, "/customers", "customers", map[string]any{"name": "Bench Merchant"})
	if err != nil {
		return nil, err
	}
	if m.bankAccount, err = api.create(ctx, "/customers/"+merchant+"/bank_accounts", "bank_accounts", map[string]any{
		"name": "Bench Merchant", "account_number": testAccountNumber, "routing_number": testRoutingNumber}); err != nil {
		return nil, err
	}
	if m.card, err = api.create(ctx, "/cards", "cards", map[string]any{
		"number": testCardNumber, "expiration_month": 12, "expiration_year": time.Now().Year() + 4}); err != nil {
		return nil, err
	}
	m.orders = make([]*orderTally, spreadOrders+2)
	err = forEach(ctx, len(m.orders), func(ctx context.Context, i int) error {
		id, err := api.create(ctx, "/customers/"+merchant+"/orders", "orders", nil)
		if err != nil {
			return err
		}
		body, err := json.Marshal(map[string]any{"amount": opAmountMinor, "order": id})
		if err != nil {
			return err
		}
		m.orders[i] = &orderTally{id: id, body: body, sign: 1}
		return nil
	})
	if err != nil {
		return nil, err
	}
	src := m.creditSource()
	if _, err := api.create(ctx, "/cards/"+m.card+"/debits", "debits", map[string]any{
		"amount": creditFundingMinor, "order": src.id}); err != nil {
		return nil, err
	}
	src.startMinor, src.sign = creditFundingMinor, -1
	if m.startEscrow, err = api.amount(ctx, "/marketplaces/"+m.id, "marketplaces", "in_escrow"); err != nil {
		return nil, err
	}
	return m, nil
}

// Orders is how many orders the marketplace has, the hot and credit ones
// included.
func (m *Marketplace) Orders() int { return len(m.orders) }

// EscrowCheck is what reading every order's escrow back found.
type EscrowCheck struct {
	Orders int
	// AcknowledgedMinor is the sum of every 2xx operation's amount.
	AcknowledgedMinor int64
	// Unknown counts operations whose outcome the load could not know;
	// UnknownCommitted how many of them the escrow shows were committed.
	Unknown          int64
	UnknownCommitted int64
	// Mismatches describe each order, or the marketplace, whose escrow is
	// not what the acknowledged operations make it.
	Mismatches []string
}

func (c EscrowCheck) String() string {
	if len(c.Mismatches) > 0 {
		return fmt.Sprintf("escrow MISMATCH in %d of %d orders or the marketplace", len(c.Mismatches), c.Orders)
	}
	s := fmt.Sprintf("escrow ok: %d orders and the marketplace hold exactly what %d acknowledged operations moved (%d minor units)",
		c.Orders, c.AcknowledgedMinor/opAmountMinor, c.AcknowledgedMinor)
	if c.Unknown > 0 {
		s += fmt.Sprintf("; of %d operations without a definite answer, %d were committed", c.Unknown, c.UnknownCommitted)
	}
	return s
}

// CheckEscrow reads every order's amount_escrowed and amount and the
// marketplace's in_escrow through the API and compares them with what was
// acknowledged: each order holds its start plus (or, for credits, minus)
// its 2xx operations, and its amount, what it took in, is its start plus
// its debits (payouts leave it); the marketplace's own escrow, which no
// operation touches, is unchanged.
func (m *Marketplace) CheckEscrow(ctx context.Context) (EscrowCheck, error) {
	check := EscrowCheck{Orders: len(m.orders)}
	found := make([]string, len(m.orders))
	committed := make([]int64, len(m.orders))
	err := forEach(ctx, len(m.orders), func(ctx context.Context, i int) error {
		o := m.orders[i]
		path := "/orders/" + o.id
		r, err := m.api.one(ctx, http.MethodGet, path, "orders", nil, http.StatusOK)
		if err != nil {
			return err
		}
		got, err := intField(r, path, "amount_escrowed")
		if err != nil {
			return err
		}
		takenIn, err := intField(r, path, "amount")
		if err != nil {
			return err
		}
		acked, unknown := o.acknowledged.Load(), o.unknown.Load()
		lo := o.startMinor + o.sign*acked*opAmountMinor
		hi := o.startMinor + o.sign*(acked+unknown)*opAmountMinor
		if lo > hi {
			lo, hi = hi, lo
		}
		committed[i] = (got - (o.startMinor + o.sign*acked*opAmountMinor)) * o.sign / opAmountMinor
		// Whatever of the unknown operations committed moved the escrow
		// and, for debits, the amount alike.
		wantTakenIn := o.startMinor
		if o.sign > 0 {
			wantTakenIn = got
		}
		switch {
		case got < lo || got > hi:
			found[i] = fmt.Sprintf("order %s: amount_escrowed %d, want %d (start %d, %d acknowledged, %d unknown)",
				o.id, got, o.startMinor+o.sign*acked*opAmountMinor, o.startMinor, acked, unknown)
		case takenIn != wantTakenIn:
			found[i] = fmt.Sprintf("order %s: amount %d, want %d (start %d, %d acknowledged, amount_escrowed %d)",
				o.id, takenIn, wantTakenIn, o.startMinor, acked, got)
		}
		return nil
	})
	if err != nil {
		return check, err
	}
	for i, o := range m.orders {
		check.AcknowledgedMinor += o.acknowledged.Load() * opAmountMinor
		check.Unknown += o.unknown.Load()
		if found[i] != "" {
			check.Mismatches = append(check.Mismatches, found[i])
			continue
		}
		check.UnknownCommitted += committed[i]
	}
	got, err := m.api.amount(ctx, "/marketplaces/"+m.id, "marketplaces", "in_escrow")
	if err != nil {
		return check, err
	}
	if got != m.startEscrow {
		check.Mismatches = append(check.Mismatches, fmt.Sprintf("marketplace %s: in_escrow %d, want %d", m.id, got, m.startEscrow))
	}
	return check, nil
}

// forEach runs fn for 0..n-1 on setupClients goroutines and returns the
// first error, after which the rest is skipped.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for w := 0; w < min(setupClients, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
