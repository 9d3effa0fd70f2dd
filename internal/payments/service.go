package payments

import (
	"context"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/vault"
)

// Service runs the operations of the payment APIs. Every operation that
// writes runs as one committer operation: its resource rows, its events
// and its ledger transfers commit together or not at all.
type Service struct {
	ledger *ledger.Ledger
	store  Store
	vault  *vault.Vault
	keeper *idempotency.Keeper
	// fingerprintKey keys instrument fingerprints; see fingerprint.
	fingerprintKey []byte
	// wake tells the scheduler a test clock advanced.
	wake chan struct{}
}

// NewService returns a service writing through l, reading from s, and
// sealing card and account numbers with v.
func NewService(l *ledger.Ledger, s Store, v *vault.Vault) *Service {
	return &Service{ledger: l, store: s, vault: v, keeper: idempotency.NewKeeper(s, l),
		fingerprintKey: v.DeriveKey(FingerprintKeyLabel), wake: make(chan struct{}, 1)}
}

// FingerprintKeyLabel names the key fingerprints are made with among the
// keys derived from the vault key. A new label (a new version) gives every
// instrument a new fingerprint, so it changes only with a rewrite of the
// stored ones.
const FingerprintKeyLabel = "poise instrument fingerprint v1"

// Now is the service's time, from the one clock it shares with the ledger.
func (s *Service) Now() time.Time { return s.ledger.Now() }

// Op is the body of a write: it may read and lock resources, write them,
// emit events and move money, all through w.
type Op func(ctx context.Context, w *Writer) (any, error)

// Writer is what an Op works with: the ledger writer of its committer
// operation and the resource side of the same database transaction.
type Writer struct {
	*ledger.Writer
	tx Tx
}

// Write runs op as one committer operation. hint lists ledger accounts op
// will touch, locked up front with the rest of the batch.
func (s *Service) Write(ctx context.Context, hint []string, op Op) (any, error) {
	if slot := slotOf(ctx); slot != nil {
		return s.writeKeyed(ctx, slot, hint, op)
	}
	return s.ledger.Do(ctx, hint, func(ctx context.Context, lw *ledger.Writer) (any, error) {
		return s.runOp(ctx, lw, op)
	})
}

// runOp runs op with the resource side of the committer's transaction.
func (s *Service) runOp(ctx context.Context, lw *ledger.Writer, op Op) (any, error) {
	ltx, err := lw.Tx()
	if err != nil {
		return nil, err
	}
	tx, ok := ltx.(Tx)
	if !ok {
		return nil, errors.New("payments: the store does not keep resources")
	}
	return op(ctx, &Writer{Writer: lw, tx: tx})
}

// Get reads a resource of a marketplace; another marketplace's resource
// is not found, exactly like one that does not exist. An instrument
// tokenized without a key is claimed by the first marketplace that reads it.
func (s *Service) Get(ctx context.Context, marketplace, id string) (Resource, error) {
	r, err := s.store.GetResource(ctx, marketplace, id)
	if errors.Is(err, ledger.ErrNotFound) && marketplace != "" {
		_, uerr := s.store.GetResource(ctx, "", id)
		if uerr == nil {
			return s.claim(ctx, marketplace, id)
		}
		if !errors.Is(uerr, ledger.ErrNotFound) {
			return Resource{}, uerr
		}
	}
	if errors.Is(err, ledger.ErrNotFound) {
		return r, apperr.New(apperr.NotFound, "no resource with id %s", id)
	}
	return r, err
}

// GetTyped reads a resource and checks its type.
func (s *Service) GetTyped(ctx context.Context, marketplace, typ, id string) (Resource, error) {
	r, err := s.Get(ctx, marketplace, id)
	if err != nil {
		return r, err
	}
	if r.Type != typ {
		return Resource{}, apperr.New(apperr.NotFound, "no %s with id %s", typ, id)
	}
	return r, nil
}

// List reads a page of resources.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Resource, int, error) {
	return s.store.ListResources(ctx, q)
}

// Lock reads a resource for update inside an operation and checks its type
// ("" accepts any).
func (w *Writer) Lock(ctx context.Context, marketplace, typ, id string) (Resource, error) {
	r, err := w.tx.LockResource(ctx, marketplace, id)
	if errors.Is(err, ledger.ErrNotFound) || err == nil && typ != "" && r.Type != typ {
		return Resource{}, apperr.New(apperr.NotFound, "no %s with id %s", typeOr(typ), id)
	}
	return r, err
}

func typeOr(typ string) string {
	if typ == "" {
		return "resource"
	}
	return typ
}

// Create stores a new resource; its ID is generated from prefix, its times
// are the operation's.
func (w *Writer) Create(ctx context.Context, r Resource, prefix string) (Resource, error) {
	if r.ID == "" {
		r.ID = id.NewAt(prefix, w.Now())
	}
	r.CreatedAt, r.UpdatedAt = w.Now(), w.Now()
	if r.Fields == nil {
		r.Fields = map[string]any{}
	}
	if r.Links == nil {
		r.Links = map[string]string{}
	}
	if r.Private == nil {
		r.Private = map[string]any{}
	}
	return r, w.tx.InsertResource(ctx, r)
}

// Save stores changes to a resource and stamps its update time.
func (w *Writer) Save(ctx context.Context, r Resource) (Resource, error) {
	r.UpdatedAt = w.Now()
	return r, w.tx.UpdateResource(ctx, r)
}

// Emit records an event about r in the same transaction as the change.
// The event keeps a snapshot of the resource as it is now.
func (w *Writer) Emit(ctx context.Context, eventType string, r Resource) (Resource, error) {
	ev := Resource{
		Marketplace: r.Marketplace,
		Type:        "events",
		// pending until the callback dispatcher has made its deliveries.
		Status: "pending",
		Fields: map[string]any{
			"type":        eventType,
			"occurred_at": w.Now().UTC().Format(time.RFC3339Nano),
			"entity":      Snapshot(r),
		},
		Links: map[string]string{"entity": r.ID},
	}
	return w.Create(ctx, ev, "EV")
}

// Snapshot is a resource as an event keeps it.
func Snapshot(r Resource) map[string]any {
	return map[string]any{
		"id":         r.ID,
		"type":       r.Type,
		"created_at": r.CreatedAt,
		"updated_at": r.UpdatedAt,
		"fields":     r.Fields,
		"links":      r.Links,
	}
}
