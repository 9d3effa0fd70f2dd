package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/poise-payments/poise/internal/api/errstatus"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/payments"
)

// txAction is one thing a transaction's page can do with an amount: the
// service call the API's POST /<parent>/:id/<path> makes, so the page's
// bounds are the API's.
type txAction struct {
	// parent is the type it acts on; path names it in the page's URL, as
	// in the API's.
	parent, path string
	label        string
	do           func(s Payments) func(ctx context.Context, marketplace, parentID string, in payments.TxInput) (payments.Resource, error)
	// left is what the action may still take of tx, or 0 when it cannot
	// act on tx now. The service checks again inside its transaction.
	left func(tx payments.Resource) int64
}

var txActions = []txAction{
	{parent: "debits", path: "refunds", label: "Refund", do: func(s Payments) func(context.Context, string, string, payments.TxInput) (payments.Resource, error) {
		return s.Refund
	}, left: func(tx payments.Resource) int64 {
		if tx.Status != "succeeded" || tx.Link("dispute") != "" {
			return 0
		}
		return max(payments.Int(tx.Fields["amount"])-payments.Int(tx.Private["refunded"]), 0)
	}},
	{parent: "credits", path: "reversals", label: "Reverse", do: func(s Payments) func(context.Context, string, string, payments.TxInput) (payments.Resource, error) {
		return s.Reverse
	}, left: func(tx payments.Resource) int64 {
		// A credit pushed to a card cannot be taken back.
		if tx.Status != "succeeded" || payments.Str(tx.Private["instrument_type"]) == "cards" {
			return 0
		}
		return max(payments.Int(tx.Fields["amount"])-payments.Int(tx.Private["reversed"]), 0)
	}},
	{parent: "card_holds", path: "debits", label: "Capture", do: func(s Payments) func(context.Context, string, string, payments.TxInput) (payments.Resource, error) {
		return s.CaptureHold
	}, left: func(tx payments.Resource) int64 {
		if tx.Status != "succeeded" || tx.Hidden || tx.Link("debit") != "" {
			return 0
		}
		return payments.Int(tx.Fields["amount"])
	}},
}

// actionForm is the form of a transaction's action.
type actionForm struct {
	Path, Label string
	LeftMinor   int64
	// IdempotencyKey makes one submit of the form one effect.
	IdempotencyKey string
}

// actionOn is the form a transaction's page shows, or nil.
func actionOn(tx payments.Resource) *actionForm {
	for _, a := range txActions {
		if a.parent != tx.Type {
			continue
		}
		if left := a.left(tx); left > 0 {
			return &actionForm{Path: a.path, Label: a.label, LeftMinor: left, IdempotencyKey: newToken()}
		}
	}
	return nil
}

// maxIdempotencyKeyLen bounds the form's key: newToken's are 43 characters.
const maxIdempotencyKeyLen = 64

// actionAnswer is what an action sent from a page records under its
// idempotency key, so that the same submit again gets the same answer.
type actionAnswer struct {
	Resource string `json:"resource,omitempty"`
	Status   int    `json:"status"`
	Message  string `json:"message,omitempty"`
}

// act does a transaction's action. Each rendered form carries its own
// idempotency key: a double click or a resent form acts once.
func (d *Dashboard) act(p *page) error {
	parentID, path := p.r.PathValue("id"), p.r.PathValue("action")
	parent, err := d.svc.Get(p.ctx, p.mp(), parentID)
	if err != nil {
		return err
	}
	var action *txAction
	for i := range txActions {
		if txActions[i].parent == parent.Type && txActions[i].path == path {
			action = &txActions[i]
		}
	}
	if action == nil {
		return apperr.New(apperr.NotFound, "there is no page at %s", p.r.URL.Path)
	}
	amount, err := parseAmountMinor(p.r.PostFormValue("amount"))
	if err != nil {
		return err
	}
	in := payments.TxInput{AmountMinor: amount, HasAmount: true, Description: p.r.PostFormValue("description")}
	return d.once(p, map[string]any{"amount": amount, "description": in.Description}, func(ctx context.Context) (payments.Resource, error) {
		return action.do(d.svc)(ctx, p.mp(), parent.ID, in)
	}, func(id string) string { return Prefix + "transactions/" + url.PathEscape(id) })
}

// once does what a form asks once per rendered form: the form carries an
// idempotency key (its field idempotency_key), and the answer to its first
// submit is recorded under it with the effect, in the effect's
// transaction, so that a double click or a resent form gets the same
// answer and moves nothing more. body is what the form asked, compared on
// a resend; next is the page to go to after making the resource of an id.
func (d *Dashboard) once(p *page, body any, do func(ctx context.Context) (payments.Resource, error), next func(id string) string) error {
	key := p.r.PostFormValue("idempotency_key")
	if key == "" || len(key) > maxIdempotencyKeyLen {
		return apperr.New(apperr.Invalid, "the form has no valid idempotency key; reload the page")
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	encode := func(a actionAnswer) idempotency.Response {
		b, _ := json.Marshal(a)
		return idempotency.Response{StatusCode: a.Status, Body: b}
	}
	slot := &payments.IdempotencySlot{
		Request: idempotency.Request{Scope: idempotency.ScopeOf(p.key.ID, http.MethodPost, p.r.URL.Path), Key: key, Hash: idempotency.HashOf(raw)},
		Render: func(r payments.Resource) idempotency.Response {
			// A transaction attempted and refused (a declined card) is
			// answered as the refusal, on its first submit and every resend.
			if failure, ok := r.Private["failure"].(*apperr.Error); ok {
				return encode(actionAnswer{Status: errstatus.Of(failure), Message: apperr.MessageOf(failure)})
			}
			return encode(actionAnswer{Resource: r.ID, Status: http.StatusCreated})
		},
		RenderError: func(err error) idempotency.Response {
			return encode(actionAnswer{Status: errstatus.Of(err), Message: apperr.MessageOf(err)})
		},
	}
	if resp, found, err := d.svc.LookupIdempotency(p.ctx, slot.Request); err != nil {
		return err
	} else if found {
		return d.answerAction(p, resp, next)
	}
	r, err := do(payments.WithIdempotency(p.ctx, slot))
	if errors.Is(err, payments.ErrAnswered) && slot.Response != nil {
		return d.answerAction(p, *slot.Response, next)
	}
	if err != nil {
		return err
	}
	http.Redirect(p.w, p.r, next(r.ID), http.StatusSeeOther)
	return nil
}

// answerAction answers a form whose answer was recorded: the page of
// what it made, or the refusal it met.
func (d *Dashboard) answerAction(p *page, resp idempotency.Response, next func(id string) string) error {
	var a actionAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		return err
	}
	if a.Resource != "" {
		http.Redirect(p.w, p.r, next(a.Resource), http.StatusSeeOther)
		return nil
	}
	v := p.view(http.StatusText(a.Status), "", nil)
	v.Error = a.Message
	d.render(p.w, a.Status, "error", v)
	return nil
}

// voidHold releases a hold through the call the API's DELETE
// /card_holds/:id makes. Voiding is its own guard against a second submit:
// a hold voided already is refused.
func (d *Dashboard) voidHold(p *page) error {
	h, err := d.svc.GetTyped(p.ctx, p.mp(), "card_holds", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := d.svc.VoidHold(p.ctx, p.mp(), h.ID); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, Prefix+"transactions/"+url.PathEscape(h.ID), http.StatusSeeOther)
	return nil
}
