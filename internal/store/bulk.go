package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// bulkOps are the statements a committer batch runs over many rows. They
// are the hot path of every write of money, so each database gets the form
// it runs fastest, and every form keeps its SQL text fixed so that it is
// parsed and planned once per connection, not once per batch.
type bulkOps interface {
	lockAccounts(ctx context.Context, t *Tx, ids []string) ([]ledger.Account, error)
	// prefetch locks the accounts of accountIDs and the resources of
	// resourceIDs (both sorted), returning the accounts and calling fn
	// with each resource found. It may also ask questions, LinkedTo
	// questions a hint named, and keep their answers (keepLinked).
	prefetch(ctx context.Context, t *Tx, accountIDs, resourceIDs []string, questions []payments.LinkedQuestion, fn func(resourceRow) error) ([]ledger.Account, error)
	insertAccounts(ctx context.Context, t *Tx, rows []ledger.Account) error
	insertTransfers(ctx context.Context, t *Tx, rows []ledger.Transfer) error
	insertPostings(ctx context.Context, t *Tx, rows []ledger.Transfer) error
	setBalances(ctx context.Context, t *Tx, rows []ledger.Account) error
	// insertRows inserts held-back rows of one table, each statement
	// ending with suffix (an ON CONFLICT clause or nothing).
	insertRows(ctx context.Context, t *Tx, suffix, table, columns string, rows [][]any) error
	// updateResources rewrites stored resource rows, each of which must
	// be there.
	updateResources(ctx context.Context, t *Tx, rows []lockedRow) error
	// deleteLinks deletes the link rows of the resources ids.
	deleteLinks(ctx context.Context, t *Tx, ids []string) error
	// writeHeldBack writes what a flush of held-back writes holds.
	writeHeldBack(ctx context.Context, t *Tx, held heldBack) error
}

const (
	transferColumns = "id, kind, status, pending_id, code, ref, legs, created_at_us, expires_at_us, resolved_at_us, resolved_by"
	postingColumns  = "account_id, created_at_us, transfer_id, seq, amount"
)

// arrayBulk is PostgreSQL's form: each column travels as one array
// parameter and unnest turns the arrays back into rows, so one statement
// text serves any number of rows.
type arrayBulk struct{}

// lockEach is the form both row locks take: one index lookup per ID, in the
// order of ids (sorted by the caller, so that every process locks in the
// same order). "WHERE id = ANY(...)" let the planner scan the whole table
// instead whenever it believed it small: on a fresh database, before its
// first ANALYZE, every batch read all accounts. A row lock inside a
// LATERAL subquery keeps the subquery from being merged into a join, so
// the lookups stay lookups whatever the statistics say.
func lockEach(table, columns string) string {
	return "SELECT l.* FROM unnest(CAST(? AS TEXT[])) WITH ORDINALITY AS k(id, n) CROSS JOIN LATERAL (SELECT " + columns +
		" FROM " + table + " WHERE " + table + ".id = k.id FOR UPDATE) AS l ORDER BY k.n"
}

var (
	lockAccountsEach  = lockEach("accounts", accountColumns)
	lockResourcesEach = lockEach("resources", resourceColumns)
)

func (arrayBulk) lockAccounts(ctx context.Context, t *Tx, ids []string) ([]ledger.Account, error) {
	rows, err := t.queryDirect(ctx, lockAccountsEach, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]ledger.Account, 0, len(ids))
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// prefetch sends both locks in one pipeline, with whatever the
// transaction has queued (its BEGIN, at the start of a batch).
func (arrayBulk) prefetch(ctx context.Context, t *Tx, accountIDs, resourceIDs []string, questions []payments.LinkedQuestion, fn func(resourceRow) error) ([]ledger.Account, error) {
	var accounts []ledger.Account
	var steps []pgStep
	if len(accountIDs) > 0 {
		accounts = make([]ledger.Account, 0, len(accountIDs))
		steps = append(steps, pgStep{query: lockAccountsEach, args: []any{accountIDs}, rows: func(rows pgx.Rows) error {
			for rows.Next() {
				a, err := scanAccount(rows)
				if err != nil {
					return err
				}
				accounts = append(accounts, a)
			}
			return nil
		}})
	}
	if len(resourceIDs) > 0 {
		steps = append(steps, pgStep{query: lockResourcesEach, args: []any{resourceIDs}, rows: func(rows pgx.Rows) error {
			return scanEach(rows, fn)
		}})
	}
	// The questions the batch's operations will ask first go in the same
	// pipeline; each keeps its answer once the pipeline has run.
	asked := make([]askedInPipeline, 0, len(questions)+1)
	if a, ok := t.askCallbacks(accountIDs); ok {
		asked = append(asked, a)
	}
	for _, q := range questions {
		asked = append(asked, t.askLinked(q))
	}
	for _, a := range asked {
		steps = append(steps, a.step)
	}
	if len(steps) == 0 {
		return nil, nil
	}
	if err := t.pg.send(ctx, steps...); err != nil {
		return nil, t.wrap(err)
	}
	for _, a := range asked {
		a.keep()
	}
	return accounts, nil
}

// askedInPipeline is a question sent in a pipeline, and what keeps its
// answer for the transaction once the pipeline has run.
type askedInPipeline struct {
	step pgStep
	keep func()
}

// eachRow calls fn with each resource row of rows, and closes them.
func eachRow(rows *sql.Rows, fn func(resourceRow) error) error {
	defer rows.Close()
	if err := scanEach(rows, fn); err != nil {
		return err
	}
	return rows.Err()
}

// rowIterator is rows of either driver: database/sql's or pgx's.
type rowIterator interface {
	rowScanner
	Next() bool
}

// scanEach calls fn with each resource row of rows, until one fails.
func scanEach(rows rowIterator, fn func(resourceRow) error) error {
	for rows.Next() {
		raw, err := scanResourceRow(rows)
		if err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return nil
}

func (arrayBulk) insertAccounts(ctx context.Context, t *Tx, rows []ledger.Account) error {
	n := len(rows)
	ids, owners, kinds, currencies := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	negative := make([]bool, n)
	posted, in, out, created, tally := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, a := range rows {
		ids[i], owners[i], kinds[i], currencies[i], negative[i] = a.ID, a.Owner, a.Kind, a.Currency, a.MayGoNegative
		posted[i], in[i], out[i], created[i], tally[i] = a.PostedMinor, a.PendingInMinor, a.PendingOutMinor, a.CreatedAt.UnixMicro(), a.TallyMinor
	}
	return t.execQueued(ctx, "INSERT INTO accounts ("+accountColumns+`) SELECT * FROM unnest(
		CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BOOLEAN[]),
		CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]))`,
		ids, owners, kinds, currencies, negative, posted, in, out, created, tally)
}

func (arrayBulk) insertTransfers(ctx context.Context, t *Tx, rows []ledger.Transfer) error {
	n := len(rows)
	ids, kinds, statuses, pendings, codes, refs, legs, bys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, expires, resolved := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, tr := range rows {
		ids[i], kinds[i], statuses[i], pendings[i], codes[i], refs[i], bys[i] = tr.ID, string(tr.Kind), string(tr.Status), tr.PendingID, tr.Code, tr.Ref, tr.ResolvedBy
		legs[i] = encodeLegs(tr.Postings)
		created[i], expires[i], resolved[i] = tr.CreatedAt.UnixMicro(), microsOrZero(tr.ExpiresAt), microsOrZero(tr.ResolvedAt)
	}
	// Empty strings and zero instants travel as themselves and become NULL
	// here: arrays of nullable values would cost a pointer per element.
	return t.execQueued(ctx, "INSERT INTO transfers ("+transferColumns+`)
		SELECT id, kind, status, NULLIF(pending_id, ''), code, ref, legs, created, NULLIF(expires, 0), NULLIF(resolved, 0), NULLIF(resolved_by, '')
		FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]),
			CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]))
		AS v(id, kind, status, pending_id, code, ref, legs, created, expires, resolved, resolved_by)`,
		ids, kinds, statuses, pendings, codes, refs, legs, created, expires, resolved, bys)
}

func (arrayBulk) insertPostings(ctx context.Context, t *Tx, rows []ledger.Transfer) error {
	var accounts, tids []string
	var created, amounts []int64
	var seqs []int32
	for _, tr := range rows {
		if !tr.Kind.MovesPosted() {
			continue
		}
		for i, p := range tr.Postings {
			accounts, created, tids = append(accounts, p.AccountID), append(created, tr.CreatedAt.UnixMicro()), append(tids, tr.ID)
			seqs, amounts = append(seqs, int32(i)), append(amounts, p.AmountMinor)
		}
	}
	if len(tids) == 0 {
		return nil
	}
	return t.execQueued(ctx, "INSERT INTO postings ("+postingColumns+`) SELECT * FROM unnest(
		CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS INTEGER[]), CAST(? AS BIGINT[]))`,
		accounts, created, tids, seqs, amounts)
}

func (arrayBulk) setBalances(ctx context.Context, t *Tx, rows []ledger.Account) error {
	n := len(rows)
	ids := make([]string, n)
	posted, in, out, tally := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, a := range rows {
		ids[i], posted[i], in[i], out[i], tally[i] = a.ID, a.PostedMinor, a.PendingInMinor, a.PendingOutMinor, a.TallyMinor
	}
	return t.execQueued(ctx, `WITH updated AS (UPDATE accounts SET posted = v.posted, pending_in = v.pending_in, pending_out = v.pending_out, tally = v.tally
		FROM unnest(CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[])) AS v(id, posted, pending_in, pending_out, tally)
		WHERE accounts.id = v.id RETURNING 1)
		`+assertCount("updated", "store: balances updated other than expected: "), ids, posted, in, out, tally, n, n)
}

// valuesBulk is SQLite's form: multi-row VALUES lists. Rows go in chunks of
// a few fixed sizes, so each statement text is prepared once and reused.
type valuesBulk struct{}

// valuesChunks are the row counts of the statements valuesBulk prepares:
// powers of two, so n rows take one statement per bit of n, at most nine
// for a whole batch, and five operations need only 45 prepared texts.
var valuesChunks = []int{256, 128, 64, 32, 16, 8, 4, 2, 1}

// eachChunk calls fn for consecutive runs of rows [start, start+size).
func eachChunk(n int, fn func(start, size int) error) error {
	start := 0
	for _, size := range valuesChunks {
		for n-start >= size {
			if err := fn(start, size); err != nil {
				return err
			}
			start += size
		}
	}
	return nil
}

func valuesList(rows int, row string) string {
	var b strings.Builder
	b.Grow(rows * (len(row) + 1))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

func (valuesBulk) lockAccounts(ctx context.Context, t *Tx, ids []string) ([]ledger.Account, error) {
	out := make([]ledger.Account, 0, len(ids))
	err := eachChunk(len(ids), func(start, size int) error {
		args := make([]any, size)
		for i := range args {
			args[i] = ids[start+i]
		}
		rows, err := t.queryDirect(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id IN ("+placeholders(size)+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// prefetch leaves questions to LinkedTo: on SQLite a question is a read in
// the process, as cheap then as now.
func (v valuesBulk) prefetch(ctx context.Context, t *Tx, accountIDs, resourceIDs []string, _ []payments.LinkedQuestion, fn func(resourceRow) error) ([]ledger.Account, error) {
	accounts, err := v.lockAccounts(ctx, t, accountIDs)
	if err != nil || len(resourceIDs) == 0 {
		return accounts, err
	}
	return accounts, v.lockResources(ctx, t, resourceIDs, fn)
}

func (valuesBulk) lockResources(ctx context.Context, t *Tx, ids []string, fn func(resourceRow) error) error {
	return eachChunk(len(ids), func(start, size int) error {
		args := make([]any, size)
		for i := range args {
			args[i] = ids[start+i]
		}
		rows, err := t.queryDirect(ctx, "SELECT "+resourceColumns+" FROM resources WHERE id IN ("+placeholders(size)+")", args...)
		if err != nil {
			return err
		}
		return eachRow(rows, fn)
	})
}

func (valuesBulk) insert(ctx context.Context, t *Tx, table, columns string, width, n int, row func(i int, args []any) []any) error {
	tuple := "(" + placeholders(width) + ")"
	return eachChunk(n, func(start, size int) error {
		args := make([]any, 0, size*width)
		for i := start; i < start+size; i++ {
			args = row(i, args)
		}
		_, err := t.Exec(ctx, "INSERT INTO "+table+" ("+columns+") VALUES "+valuesList(size, tuple), args...)
		return err
	})
}

func (v valuesBulk) insertAccounts(ctx context.Context, t *Tx, rows []ledger.Account) error {
	return v.insert(ctx, t, "accounts", accountColumns, 10, len(rows), func(i int, args []any) []any {
		a := rows[i]
		return append(args, a.ID, a.Owner, a.Kind, a.Currency, a.MayGoNegative,
			a.PostedMinor, a.PendingInMinor, a.PendingOutMinor, a.CreatedAt.UnixMicro(), a.TallyMinor)
	})
}

func (v valuesBulk) insertTransfers(ctx context.Context, t *Tx, rows []ledger.Transfer) error {
	return v.insert(ctx, t, "transfers", transferColumns, 11, len(rows), func(i int, args []any) []any {
		tr := rows[i]
		return append(args, tr.ID, string(tr.Kind), string(tr.Status), nullString(tr.PendingID), tr.Code, tr.Ref, encodeLegs(tr.Postings),
			tr.CreatedAt.UnixMicro(), nullMicros(tr.ExpiresAt), nullMicros(tr.ResolvedAt), nullString(tr.ResolvedBy))
	})
}

func (v valuesBulk) insertPostings(ctx context.Context, t *Tx, rows []ledger.Transfer) error {
	type leg struct {
		tr  *ledger.Transfer
		seq int
	}
	var legs []leg
	for i := range rows {
		if !rows[i].Kind.MovesPosted() {
			continue
		}
		for seq := range rows[i].Postings {
			legs = append(legs, leg{&rows[i], seq})
		}
	}
	return v.insert(ctx, t, "postings", postingColumns, 5, len(legs), func(i int, args []any) []any {
		l := legs[i]
		p := l.tr.Postings[l.seq]
		return append(args, p.AccountID, l.tr.CreatedAt.UnixMicro(), l.tr.ID, l.seq, p.AmountMinor)
	})
}

func (valuesBulk) setBalances(ctx context.Context, t *Tx, rows []ledger.Account) error {
	const tuple = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*5)
		for _, a := range rows[start : start+size] {
			args = append(args, a.ID, a.PostedMinor, a.PendingInMinor, a.PendingOutMinor, a.TallyMinor)
		}
		res, err := t.Exec(ctx, "UPDATE accounts SET posted = v.column2, pending_in = v.column3, pending_out = v.column4, tally = v.column5 FROM (VALUES "+
			valuesList(size, tuple)+") AS v WHERE accounts.id = v.column1", args...)
		return checkUpdated(res, err, size)
	})
}

func checkUpdated(res sql.Result, err error, want int) error {
	return checkRows(res, err, want, func(got int64) error { return fmt.Errorf("store: updated %d balances, expected %d", got, want) })
}

// checkRows passes on err, or the error missing makes when a statement
// changed other than want rows.
func checkRows(res sql.Result, err error, want int, missing func(got int64) error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(want) {
		return missing(n)
	}
	return nil
}

func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
