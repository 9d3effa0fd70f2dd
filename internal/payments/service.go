package payments

import (
	"context"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
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
	// feed receives what operations do to merchants' money.
	feed BalanceFeed
	// orders remembers orders' merchants, for hints (paymentHint).
	orders orderMerchants
	// keys keeps the API keys requests authenticate with.
	keys keyCache
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

// Now is the process's time, from the one clock the service shares with the
// ledger. A marketplace's time is NowFor's; inside an operation, Writer.Now's.
func (s *Service) Now() time.Time { return s.ledger.Now() }

// Op is the body of a write: it may read and lock resources, write them,
// emit events and move money, all through w.
type Op func(ctx context.Context, w *Writer) (any, error)

// Writer is what an Op works with: the ledger writer of its committer
// operation, the resource side of the same database transaction, and the
// clock of the marketplace the operation is for.
type Writer struct {
	*ledger.Writer
	tx Tx
	// clock is the operation's marketplace's clock, read at the batch's
	// instant: every time the operation records (created_at, updated_at,
	// occurred_at, feed entries, expiries, due dates) is one instant of
	// that marketplace's time.
	clock clock.Clock
	// balanceFeed is the service's balance feed.
	balanceFeed BalanceFeed
	// orders is where the service remembers orders' merchants; nil keeps
	// nothing.
	orders *orderMerchants
}

// NoMarketplace is the marketplace of an operation that belongs to none yet
// (a new API key, a new marketplace); its time is the process's.
const NoMarketplace = ""

// Now is the operation's instant on its marketplace's clock: the batch's
// instant, plus how far a test marketplace's clock was advanced.
//
// The ledger's own records (transfers, entries) keep the batch's process
// time, which Writer.Writer.Now reads: the journal is ordered by the time
// batches commit, and one batch serves many marketplaces.
func (w *Writer) Now() time.Time { return w.clock.Now() }

// NewID makes an ID of a record written by the operation. Its time part is
// the process's, not the marketplace's, so IDs stay in the order they were
// made across marketplaces whose clocks differ.
func (w *Writer) NewID(prefix string) string { return id.NewAt(prefix, w.Writer.Now()) }

// processTime turns an instant of the operation's marketplace's clock into
// the process time at which it falls due. Due work (jobs) is kept in
// process time; advancing a test clock brings its jobs forward by as much.
func (w *Writer) processTime(at time.Time) time.Time {
	return at.Add(-w.clock.Now().Sub(w.Writer.Now()))
}

// ProcessTime turns an instant of the operation's marketplace's clock into
// the process time at which work due then runs (a job's due time).
func (w *Writer) ProcessTime(at time.Time) time.Time { return w.processTime(at) }

// ProcessNow is the batch's instant in process time: the time the ledger
// and the scheduler keep.
func (w *Writer) ProcessNow() time.Time { return w.Writer.Now() }

// Write runs op as one committer operation for marketplace (NoMarketplace
// for one that concerns none). hint lists ledger accounts op will touch,
// locked up front with the rest of the batch.
func (s *Service) Write(ctx context.Context, marketplace string, hint []string, op Op) (any, error) {
	if slot := slotOf(ctx); slot != nil {
		return s.writeKeyed(ctx, slot, marketplace, hint, op)
	}
	return s.ledger.Do(ctx, hint, func(ctx context.Context, lw *ledger.Writer) (any, error) {
		return s.runOp(ctx, lw, marketplace, op)
	})
}

// runOp runs op with the resource side of the committer's transaction and
// its marketplace's clock, read once here so that the whole operation sees
// one time.
func (s *Service) runOp(ctx context.Context, lw *ledger.Writer, marketplace string, op Op) (any, error) {
	ltx, err := lw.Tx()
	if err != nil {
		return nil, err
	}
	tx, ok := ltx.(Tx)
	if !ok {
		return nil, errors.New("payments: the store does not keep resources")
	}
	w := &Writer{Writer: lw, tx: tx, clock: lw, balanceFeed: s.feed, orders: &s.orders}
	if marketplace != NoMarketplace {
		// Locked, not just read: an advance of this clock commits either
		// before this operation or after it, so nothing it records is dated
		// before a time the marketplace has already shown.
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return nil, err
		}
		w.clock = marketplaceClock(lw, mp)
	}
	return op(ctx, w)
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
		r.ID = w.NewID(prefix)
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
	return w.emitWith(ctx, eventType, r, nil)
}

// emitWith is Emit with fields of the event's own beside its entity.
func (w *Writer) emitWith(ctx context.Context, eventType string, r Resource, extra map[string]any) (Resource, error) {
	if r.Type == "orders" {
		var err error
		if r, err = w.withOrderAmount(r); err != nil {
			return Resource{}, err
		}
	}
	// An event is pending until the callback dispatcher has made its
	// deliveries, one for each callback of the marketplace. With no
	// callback there are none to make: it is born dispatched.
	status := "dispatched"
	if has, err := w.tx.HasCallbacks(ctx, r.Marketplace); err != nil {
		return Resource{}, err
	} else if has {
		status = "pending"
	}
	ev := Resource{
		Marketplace: r.Marketplace,
		Type:        "events",
		Status:      status,
		Fields: map[string]any{
			"type":        eventType,
			"occurred_at": w.Now().UTC().Format(time.RFC3339Nano),
			"entity":      Snapshot(r),
		},
		Links: map[string]string{"entity": r.ID},
	}
	for k, v := range extra {
		ev.Fields[k] = v
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
