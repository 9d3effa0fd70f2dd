package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// KeyedFingerprintsStep names the one-time rewrite of the fingerprints
// stored before they were keyed.
const KeyedFingerprintsStep = "keyed_fingerprints"

// rekeyBatchSize bounds the instruments rewritten in one transaction: a
// large store is rewritten in many short transactions, each holding its
// row locks for a few milliseconds, rather than one that blocks writers.
const rekeyBatchSize = 200

// StepStore is what one-time start-up steps need: every instrument of every
// marketplace, in id order, and whether a step has run.
type StepStore interface {
	ScanInstruments(ctx context.Context, afterID string, limit int) ([]Resource, error)
	StepDone(ctx context.Context, name string) (bool, error)
}

// stepTx records a finished step in the transaction of its last change.
type stepTx interface {
	RecordStep(ctx context.Context, name string, now time.Time) error
}

// unkeyedFingerprint is how fingerprints were made before they were keyed:
// SHA-256 of the joined parts. Kept only to recognise them.
func unkeyedFingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

// KeyFingerprints rewrites every stored fingerprint made without the key,
// on instruments and on the snapshots their events keep, then records the
// step so that later starts skip it. A fingerprint is rewritten only when
// it is the unkeyed hash of the instrument's own sealed number, so running
// it twice, or while another process creates instruments, changes nothing
// already keyed; equal instruments get equal keyed fingerprints, as they
// had equal unkeyed ones. It returns how many instruments it rewrote.
func (s *Service) KeyFingerprints(ctx context.Context, st StepStore) (int, error) {
	if done, err := st.StepDone(ctx, KeyedFingerprintsStep); err != nil || done {
		return 0, err
	}
	rewritten, after := 0, ""
	for {
		batch, err := st.ScanInstruments(ctx, after, rekeyBatchSize)
		if err != nil {
			return rewritten, err
		}
		last := len(batch) < rekeyBatchSize
		v, err := s.Write(WithoutIdempotency(ctx), NoMarketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
			n := 0
			for _, scanned := range batch {
				changed, err := s.rekeyInstrument(ctx, w, scanned)
				if err != nil {
					return nil, err
				}
				if changed {
					n++
				}
			}
			if !last {
				return n, nil
			}
			return n, w.tx.RecordStep(ctx, KeyedFingerprintsStep, w.Now())
		})
		if err != nil {
			return rewritten, err
		}
		rewritten += v.(int)
		if last {
			return rewritten, nil
		}
		after = batch[len(batch)-1].ID
	}
}

// rekeyInstrument rewrites one instrument's fingerprint, and its events'
// copies, when it is still unkeyed. Its update time is kept: nothing about
// the instrument changed for its owner.
func (s *Service) rekeyInstrument(ctx context.Context, w *Writer, scanned Resource) (bool, error) {
	r, err := w.tx.LockResource(ctx, scanned.Marketplace, scanned.ID)
	if err != nil {
		return false, fmt.Errorf("payments: rekey %s: %w", scanned.ID, err)
	}
	var old, keyed string
	switch r.Type {
	case "cards":
		number, err := s.vault.Open(Str(r.Private["number"]))
		if err != nil {
			return false, fmt.Errorf("payments: rekey %s: %w", r.ID, err)
		}
		month, year := Int(r.Fields["expiration_month"]), Int(r.Fields["expiration_year"])
		old = unkeyedFingerprint(number, fmt.Sprint(month), fmt.Sprint(year))
		keyed = s.cardFingerprint(number, month, year)
	case "bank_accounts":
		account, err := s.vault.Open(Str(r.Private["account_number"]))
		if err != nil {
			return false, fmt.Errorf("payments: rekey %s: %w", r.ID, err)
		}
		routing := Str(r.Fields["routing_number"])
		old = unkeyedFingerprint(routing, account)
		keyed = s.bankAccountFingerprint(routing, account)
	default:
		return false, nil
	}
	if Str(r.Fields["fingerprint"]) != old {
		return false, nil
	}
	r.Fields["fingerprint"] = keyed
	if err := w.tx.UpdateResource(ctx, r); err != nil {
		return false, err
	}
	return true, s.rekeyEvents(ctx, w, r, old, keyed)
}

// eventsPageSize bounds one read of an instrument's events; an instrument
// has a handful (created, updated, claimed).
const eventsPageSize = 100

func (s *Service) rekeyEvents(ctx context.Context, w *Writer, r Resource, old, keyed string) error {
	if r.Marketplace == "" {
		return nil // unclaimed instruments have no events
	}
	for offset := 0; ; offset += eventsPageSize {
		evs, total, err := s.store.ListResources(ctx, ListQuery{Marketplace: r.Marketplace, Type: "events",
			LinkRel: "entity", LinkTarget: r.ID, WithHidden: true, Limit: eventsPageSize, Offset: offset})
		if err != nil {
			return err
		}
		for _, listed := range evs {
			ev, err := w.tx.LockResource(ctx, r.Marketplace, listed.ID)
			if err != nil {
				return err
			}
			entity, _ := ev.Fields["entity"].(map[string]any)
			fields, _ := entity["fields"].(map[string]any)
			if Str(fields["fingerprint"]) != old {
				continue
			}
			fields["fingerprint"] = keyed
			if err := w.tx.UpdateResource(ctx, ev); err != nil {
				return err
			}
		}
		if offset+len(evs) >= total || len(evs) == 0 {
			return nil
		}
	}
}
