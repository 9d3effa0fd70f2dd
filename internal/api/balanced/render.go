package balanced

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// timeFormat is Balanced's: UTC with microseconds and a Z.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// resourceLinks are the keys of each type's resource-level links, exactly
// as its schema lists them (most forbid extra keys).
var resourceLinks = map[string][]string{
	"marketplaces":               {"owner_customer"},
	"api_keys":                   {},
	"customers":                  {"source", "destination"},
	"cards":                      {"customer"},
	"bank_accounts":              {"customer", "bank_account_verification"},
	"bank_account_verifications": {"bank_account"},
	"external_accounts":          {"customer"},
	"accounts":                   {"customer"},
	"card_holds":                 {"card", "debit", "order"},
	"debits":                     {"source", "customer", "order", "dispute", "card_hold"},
	"credits":                    {"customer", "destination", "order", "settlement"},
	"refunds":                    {"debit", "order", "dispute"},
	"reversals":                  {"credit", "order", "settlement"},
	"orders":                     {"merchant"},
	"settlements":                {"source", "destination"},
	"disputes":                   {"transaction"},
	"callbacks":                  {},
	"events":                     {},
	"merchants":                  {"customer"},
	"managers":                   {},
	"adjustments":                {"merchant"},
	"scheduled_adjustments":      {"merchant"},
	"balance_rules":              {"merchant"},
	"reserve_moves":              {"merchant"},
	"endpoints":                  {"merchant"},
	"balances":                   {"merchant"},
}

// hrefBase is the path a type's resources live under; verifications are
// the one type not at /<plural>/<id>.
func hrefBase(typ string) string {
	if typ == "bank_account_verifications" {
		return "/verifications"
	}
	return "/" + typ
}

// representation renders one resource as the API shows it.
func (a *API) representation(ctx context.Context, r payments.Resource) (map[string]any, error) {
	out := make(map[string]any, len(r.Fields)+6)
	for k, v := range r.Fields {
		out[k] = v
	}
	out["id"] = r.ID
	out["href"] = hrefBase(r.Type) + "/" + r.ID
	if r.Type != "callbacks" && r.Type != "events" {
		out["created_at"] = r.CreatedAt.UTC().Format(timeFormat)
		out["updated_at"] = r.UpdatedAt.UTC().Format(timeFormat)
	}
	links := map[string]any{}
	for _, rel := range resourceLinks[r.Type] {
		if id := r.Link(rel); id != "" {
			links[rel] = id
		} else {
			links[rel] = nil
		}
	}
	out["links"] = links
	// A balance shown with a resource that is being created in the same
	// transaction is not committed yet: it is zero.
	balance := func(id string) (int64, error) {
		bal, err := a.svc.Balance(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			return 0, nil
		}
		return bal, err
	}
	// An escrow shows what is really its own: posted money less what
	// payouts and refunds in flight have already promised away
	// (payments.EscrowReport).
	available := func(id string) (int64, error) {
		e, err := a.svc.Escrow(ctx, id)
		return e.AvailableMinor, err
	}
	switch r.Type {
	case "marketplaces":
		bal, err := available(payments.EscrowAccount(r.ID))
		if err != nil {
			return nil, err
		}
		out["in_escrow"], out["unsettled_fees"] = bal, 0
	case "accounts":
		bal, err := balance(r.ID)
		if err != nil {
			return nil, err
		}
		out["balance"] = bal
	case "orders":
		amount, escrow, err := a.svc.OrderTotals(ctx, r)
		if err != nil {
			return nil, err
		}
		out["amount"], out["amount_escrowed"] = amount, escrow.AvailableMinor
	case "events":
		delete(out, "entity")
		entity, err := a.eventEntity(ctx, r)
		if err != nil {
			return nil, err
		}
		out["entity"] = entity
		statuses := map[string]any{"failed": 0, "pending": 0, "retrying": 0, "succeeded": 0}
		if a.deliveries != nil {
			dels, err := a.deliveries.DeliveriesOf(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			for _, d := range dels {
				statuses[d.Status] = statuses[d.Status].(int) + 1
			}
		}
		out["callback_statuses"] = statuses
	}
	return out, nil
}

// eventEntity renders the snapshot an event keeps as the envelope of the
// resource at that moment.
func (a *API) eventEntity(ctx context.Context, ev payments.Resource) (map[string]any, error) {
	snap, _ := ev.Fields["entity"].(map[string]any)
	if snap == nil {
		return map[string]any{}, nil
	}
	r := payments.Resource{
		ID:          payments.Str(snap["id"]),
		Marketplace: ev.Marketplace,
		Type:        payments.Str(snap["type"]),
		Fields:      map[string]any{},
		Links:       map[string]string{},
	}
	if f, ok := snap["fields"].(map[string]any); ok {
		r.Fields = f
	}
	if l, ok := snap["links"].(map[string]any); ok {
		for k, v := range l {
			r.Links[k] = payments.Str(v)
		}
	}
	r.CreatedAt = parseTime(snap["created_at"])
	r.UpdatedAt = parseTime(snap["updated_at"])
	// A failure to render (a balance that cannot be read) is the
	// database's: the event is not shown, or sent, without its entity.
	rep, err := a.representation(ctx, r)
	if err != nil {
		return nil, err
	}
	return map[string]any{r.Type: []any{rep}, "links": collectionLinks(r.Type)}, nil
}

func parseTime(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case string:
		t, _ := time.Parse(time.RFC3339Nano, x)
		return t
	}
	return time.Time{}
}

// collectionLinks are the top-level URI templates of a type's envelope.
func collectionLinks(typ string) map[string]any {
	out := map[string]any{}
	for k, v := range linkTemplates[typ] {
		out[k] = v
	}
	return out
}

// singular names a type in messages ("debit", "card hold").
func singular(typ string) string {
	return strings.ReplaceAll(strings.TrimSuffix(typ, "s"), "_", " ")
}

// RenderEvent is the body a callback receives for an event: the event in
// its envelope, as GET /events/:id shows it.
func (a *API) RenderEvent(ev payments.Resource) ([]byte, error) {
	rep, err := a.representation(context.Background(), ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"events": []any{rep}, "links": map[string]any{}})
}
