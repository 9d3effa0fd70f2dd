package store

import (
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// The store keeps what each service declares it needs, outside a write
// (DB) and inside the committer's transaction (Tx): a capability missing
// here fails the build, not a request.
var (
	_ payments.Store  = (*DB)(nil)
	_ merchants.Store = (*DB)(nil)
	_ payments.Tx     = (*Tx)(nil)
	_ merchants.Tx    = (*Tx)(nil)
	_ idempotency.Tx  = (*Tx)(nil)
)
