// Package events delivers a marketplace's events to its callbacks.
//
// Events are written in the same transaction as the change they describe,
// so none is lost. The dispatcher turns each new event into one delivery
// per live callback; the sender POSTs (or PUTs, or GETs) each due delivery,
// signed, and retries failures with exponential back-off for up to three
// days. Every attempt is recorded.
package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// Delivery limits.
const (
	// firstRetryDelay doubles after every failed attempt: 1, 2, 4 ...
	// minutes. maxAttempts of them add up to 4095 minutes, just under the
	// three days a receiver is given to come back.
	firstRetryDelay = time.Minute
	maxAttempts     = 12
	// attemptTimeout bounds one HTTP attempt; a receiver slower than this
	// is treated as down and retried later.
	attemptTimeout = 10 * time.Second
	// batchSize bounds the events dispatched (in one transaction) and the
	// deliveries sent per round.
	batchSize = 100
	// maxRoundsPerTick bounds how many full rounds of dispatching one tick
	// of Run does: a busy server makes far more than batchSize events a
	// second, and a dispatcher that took one batch a tick would fall
	// behind without end. A hundred rounds are 10,000 events a tick.
	maxRoundsPerTick = 100
	// maxErrorLen bounds the error text kept per attempt.
	maxErrorLen = 500
	// leaseDuration is how long a delivery being sent is its sender's: an
	// attempt takes at most attemptTimeout and two database writes, so a
	// minute passes only when the sender died or lost its database. Then
	// another instance sends it.
	leaseDuration = time.Minute
)

// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>", the
// MAC over "<t>.<body>" with the callback's signing secret. The timestamp
// lets a receiver refuse replays of old deliveries.
const SignatureHeader = "Poise-Signature"

// Sign computes the signature header value for a body at instant t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery is one event to be sent to one callback.
type Delivery struct {
	ID          string
	Marketplace string
	EventID     string
	CallbackID  string
	Status      string // pending, retrying, succeeded, failed
	Attempts    int
	NextAttempt time.Time
	CreatedAt   time.Time
}

// Dispatch is an event and the deliveries it makes, one per live callback
// of its marketplace (none when the marketplace has no callback).
type Dispatch struct {
	EventID    string
	Deliveries []Delivery
}

// Attempt is one try at a delivery.
type Attempt struct {
	DeliveryID  string
	Attempt     int
	AttemptedAt time.Time
	StatusCode  int
	Error       string
	DurationMs  int64
}

// Store is what delivery needs from the database.
type Store interface {
	ListResources(ctx context.Context, q payments.ListQuery) ([]payments.Resource, int, error)
	GetResource(ctx context.Context, marketplace, id string) (payments.Resource, error)
	UndispatchedEvents(ctx context.Context, limit int) ([]payments.Resource, error)
	// DispatchEvents stores the deliveries of each event and marks it
	// dispatched, all in one transaction. An event another dispatcher
	// marked first is skipped with its deliveries.
	DispatchEvents(ctx context.Context, dispatches []Dispatch) error
	// DueDeliveries lists deliveries due at now that owner may take: not
	// leased, leased by owner, or leased by another until before now.
	DueDeliveries(ctx context.Context, now time.Time, owner string, limit int) ([]Delivery, error)
	// ClaimDelivery leases d to owner until until, if it is still as read
	// (same number of attempts) and no other owner's lease runs past now;
	// false when another process has it.
	ClaimDelivery(ctx context.Context, d Delivery, owner string, now, until time.Time) (bool, error)
	// RecordAttempt stores an attempt and the delivery's new state together.
	RecordAttempt(ctx context.Context, d Delivery, a Attempt) error
	DeliveriesOf(ctx context.Context, eventID string) ([]Delivery, error)
}

// Clock tells the deliverer the time.
type Clock interface{ Now() time.Time }

// Renderer turns an event into the body its callbacks receive.
type Renderer func(event payments.Resource) ([]byte, error)

// Deliverer dispatches and sends deliveries.
type Deliverer struct {
	store  Store
	clock  Clock
	client *http.Client
	render Renderer
	// owner names this deliverer on the leases it takes.
	owner string
}

// NewDeliverer returns a deliverer; client is the outside world (tests pass
// one aimed at a test server).
func NewDeliverer(s Store, clk Clock, client *http.Client, render Renderer) *Deliverer {
	if client == nil {
		client = &http.Client{Timeout: attemptTimeout}
	}
	return &Deliverer{store: s, clock: clk, client: client, render: render, owner: id.New("DV")}
}

// RunOnce dispatches new events and sends due deliveries, once.
func (d *Deliverer) RunOnce(ctx context.Context) (dispatched, sent int, err error) {
	events, err := d.store.UndispatchedEvents(ctx, batchSize)
	if err != nil {
		return 0, 0, err
	}
	now := d.clock.Now()
	// One read of each marketplace's callbacks serves all its events of
	// the round, and one transaction dispatches them all.
	callbacksOf := map[string][]payments.Resource{}
	dispatches := make([]Dispatch, 0, len(events))
	for _, ev := range events {
		callbacks, ok := callbacksOf[ev.Marketplace]
		if !ok {
			callbacks, _, err = d.store.ListResources(ctx, payments.ListQuery{Marketplace: ev.Marketplace, Type: "callbacks", Limit: batchSize})
			if err != nil {
				return 0, 0, err
			}
			callbacksOf[ev.Marketplace] = callbacks
		}
		deliveries := make([]Delivery, len(callbacks))
		for i, cb := range callbacks {
			deliveries[i] = Delivery{ID: id.NewAt("DL", now), Marketplace: ev.Marketplace, EventID: ev.ID, CallbackID: cb.ID,
				Status: "pending", NextAttempt: now, CreatedAt: now}
		}
		dispatches = append(dispatches, Dispatch{EventID: ev.ID, Deliveries: deliveries})
	}
	if len(dispatches) > 0 {
		if err := d.store.DispatchEvents(ctx, dispatches); err != nil {
			return 0, 0, err
		}
		dispatched = len(dispatches)
	}
	due, err := d.store.DueDeliveries(ctx, now, d.owner, batchSize)
	if err != nil {
		return dispatched, 0, err
	}
	for _, del := range due {
		// Each delivery is leased just before it is sent, so a lease
		// covers one attempt however long the batch takes.
		claimed, err := d.store.ClaimDelivery(ctx, del, d.owner, d.clock.Now(), d.clock.Now().Add(leaseDuration))
		if err != nil {
			return dispatched, sent, err
		}
		if !claimed {
			continue // another instance is sending it
		}
		if err := d.send(ctx, del); err != nil {
			return dispatched, sent, err
		}
		sent++
	}
	return dispatched, sent, nil
}

// Run calls RunOnce every interval until ctx ends.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for round := 0; round < maxRoundsPerTick && ctx.Err() == nil; round++ {
			dispatched, sent, err := d.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil && onError != nil {
					onError(err)
				}
				break
			}
			if dispatched < batchSize && sent < batchSize {
				break // caught up
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Deliverer) send(ctx context.Context, del Delivery) error {
	cb, err := d.store.GetResource(ctx, del.Marketplace, del.CallbackID)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		// The database failed, not the delivery: it stays due, and the
		// next round tries it again.
		return fmt.Errorf("events: read callback %s: %w", del.CallbackID, err)
	}
	if err != nil || cb.Hidden {
		// The callback was deleted: give the delivery up.
		del.Status = "failed"
		return d.store.RecordAttempt(ctx, del, Attempt{DeliveryID: del.ID, Attempt: del.Attempts + 1, AttemptedAt: d.clock.Now(), Error: "callback deleted"})
	}
	ev, err := d.store.GetResource(ctx, del.Marketplace, del.EventID)
	if err != nil {
		return err
	}
	body, err := d.render(ev)
	if err != nil {
		return err
	}
	now := d.clock.Now()
	a := Attempt{DeliveryID: del.ID, Attempt: del.Attempts + 1, AttemptedAt: now}
	code, sendErr := d.post(ctx, cb, body, now)
	a.StatusCode, a.DurationMs = code, time.Since(now).Milliseconds()
	del.Attempts++
	switch {
	case sendErr == nil && code >= 200 && code < 300:
		del.Status = "succeeded"
	case del.Attempts >= maxAttempts:
		del.Status = "failed"
	default:
		del.Status = "retrying"
		del.NextAttempt = now.Add(firstRetryDelay << (del.Attempts - 1))
	}
	if sendErr != nil {
		a.Error = sendErr.Error()
	} else if del.Status != "succeeded" {
		a.Error = fmt.Sprintf("the receiver answered %d", code)
	}
	if len(a.Error) > maxErrorLen {
		a.Error = a.Error[:maxErrorLen]
	}
	return d.store.RecordAttempt(ctx, del, a)
}

func (d *Deliverer) post(ctx context.Context, cb payments.Resource, body []byte, now time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	method := map[string]string{"post": http.MethodPost, "put": http.MethodPut, "get": http.MethodGet}[payments.Str(cb.Fields["method"])]
	if method == "" {
		method = http.MethodPost
	}
	var reader io.Reader = bytes.NewReader(body)
	if method == http.MethodGet {
		reader = nil
	}
	req, err := http.NewRequestWithContext(ctx, method, payments.Str(cb.Fields["url"]), reader)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "poise-callbacks/1")
	req.Header.Set(SignatureHeader, Sign(payments.Str(cb.Private["secret"]), now, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}
