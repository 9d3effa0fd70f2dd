package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// commitCutter stands between the store and PostgreSQL, passing the wire
// protocol through, and when armed cuts the first connection that sends
// COMMIT: after passing it on (the server commits, the client never hears)
// or instead of passing it on (the server rolls back when the connection
// goes).
type commitCutter struct {
	ln     net.Listener
	target string
	// mode is what the next COMMIT meets: cutNone, cutAfter or cutBefore.
	mode atomic.Int32
	cuts atomic.Int32
	// roundTrips counts the client's messages that ask the server to
	// answer: a simple query, or the Sync ending a pipeline.
	roundTrips atomic.Int32
}

const (
	cutNone int32 = iota
	cutAfter
	cutBefore
)

func newCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &commitCutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			var muted atomic.Bool
			go func() {
				defer client.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := server.Read(buf)
					if n > 0 && !muted.Load() {
						if _, werr := client.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
			go c.pump(client, server, &muted)
		}
	}()
	return c
}

// pump passes the client's messages to the server, watching for COMMIT.
// Once it cuts after a COMMIT, muted keeps the server's answer from the
// client.
func (c *commitCutter) pump(client, server net.Conn, muted *atomic.Bool) {
	defer server.Close()
	defer client.Close()
	// The startup message has no type byte; an SSL or GSS request before
	// it is answered "no" by a server without TLS, and the client goes on.
	for {
		head := make([]byte, 4)
		if _, err := io.ReadFull(client, head); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head)-4)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		if _, err := server.Write(append(head, body...)); err != nil {
			return
		}
		if len(body) == 4 && (binary.BigEndian.Uint32(body) == 80877103 || binary.BigEndian.Uint32(body) == 80877104) {
			continue
		}
		break
	}
	// COMMIT may come as a simple query, as a statement parsed and run at
	// once, or as a prepared statement run by name inside a pipeline: the
	// names of statements prepared as COMMIT are kept to know it by.
	commits := make(map[string]bool)
	// draining is set once COMMIT was passed on in a pipeline: the rest
	// of the pipeline, up to its Sync, goes too, or the server would never
	// run it.
	draining := false
	for {
		head := make([]byte, 5)
		if _, err := io.ReadFull(client, head); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		msg := append(head, body...)
		if head[0] == 'Q' || head[0] == 'S' {
			c.roundTrips.Add(1)
		}
		if draining {
			if _, err := server.Write(msg); err != nil {
				return
			}
			if head[0] == 'S' {
				muted.Store(true)
				time.Sleep(300 * time.Millisecond) // the server commits meanwhile
				c.cuts.Add(1)
				return
			}
			continue
		}
		if isCommit(head[0], body, commits) {
			switch c.mode.Swap(cutNone) {
			case cutAfter:
				if head[0] != 'Q' {
					draining = true
					if _, err := server.Write(msg); err != nil {
						return
					}
					continue
				}
				muted.Store(true)
				server.Write(msg)
				time.Sleep(300 * time.Millisecond) // the server commits meanwhile
				c.cuts.Add(1)
				return
			case cutBefore:
				c.cuts.Add(1)
				return
			}
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// ledgerBehindCutter opens a PostgreSQL store through a commitCutter and a
// ledger on it, with a source account that may go negative (SRC) and an
// escrow (DST).
func ledgerBehindCutter(t *testing.T) (*commitCutter, *store.DB, *ledger.Ledger) {
	t.Helper()
	u, err := url.Parse(storetest.URL(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cutter := newCommitCutter(t, u.Host)
	u.Host = cutter.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	db := storetest.OpenURL(t, u.String())
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	for _, a := range []ledger.Account{
		{ID: "SRC", Owner: "t", Kind: "network", Currency: "USD", MayGoNegative: true},
		{ID: "DST", Owner: "t", Kind: "escrow", Currency: "USD"},
	} {
		if _, err := l.CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return cutter, db, l
}

// isCommit reports whether a client message runs COMMIT: by the simple
// protocol (Query), by the extended one as an unnamed statement (Parse),
// or by running a statement prepared as COMMIT (Bind), whose names it
// keeps in prepared.
func isCommit(typ byte, body []byte, prepared map[string]bool) bool {
	cstring := func(b []byte) (string, []byte) {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return string(b), nil
		}
		return string(b[:i]), b[i+1:]
	}
	isCommitText := func(text string) bool {
		return bytes.EqualFold(bytes.TrimSpace([]byte(text)), []byte("commit"))
	}
	switch typ {
	case 'Q':
		text, _ := cstring(body)
		return isCommitText(text)
	case 'P':
		name, rest := cstring(body)
		text, _ := cstring(rest)
		if !isCommitText(text) {
			return false
		}
		if name != "" {
			prepared[name] = true
			return false
		}
		return true
	case 'B':
		_, rest := cstring(body)
		name, _ := cstring(rest)
		return prepared[name]
	}
	return false
}

// When the connection is cut after COMMIT was sent, the batch committed
// and its callers hear so, each once; when it is cut before, nothing was
// written and every caller of that batch hears a retryable 503, and none
// of its transfers is applied by a retry of the committer's own.
func TestACommitWhoseAnswerIsLostIsAnsweredByWhatHappened(t *testing.T) {
	cutter, db, l := ledgerBehindCutter(t)
	ctx := context.Background()

	acknowledged := int64(0)
	round := func(mode int32, n int) (ok, lost int) {
		t.Helper()
		cutter.mode.Store(mode)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Transfer(ctx, ledger.TransferRequest{Code: "t", Ref: "r", Postings: []ledger.Posting{
					{AccountID: "SRC", AmountMinor: -int64(i + 1)}, {AccountID: "DST", AmountMinor: int64(i + 1)}}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
					acknowledged += int64(i + 1)
				case apperr.CodeOf(err) == apperr.Unavailable && errors.Is(err, ledger.ErrCommitLost):
					lost++
				default:
					t.Errorf("transfer %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		return ok, lost
	}

	if ok, lost := round(cutAfter, 40); ok != 40 || lost != 0 || cutter.cuts.Load() != 1 {
		t.Fatalf("cut after COMMIT: %d acknowledged, %d lost, %d cuts; want 40, 0, 1", ok, lost, cutter.cuts.Load())
	}
	if ok, lost := round(cutBefore, 40); lost == 0 || ok+lost != 40 || cutter.cuts.Load() != 2 {
		t.Fatalf("cut before COMMIT: %d acknowledged, %d lost, %d cuts; want some lost, all answered, 2 cuts", ok, lost, cutter.cuts.Load())
	}
	dst, err := l.Account(ctx, "DST")
	if err != nil {
		t.Fatal(err)
	}
	if dst.PostedMinor != acknowledged {
		t.Fatalf("the account holds %d, the acknowledged transfers moved %d", dst.PostedMinor, acknowledged)
	}
	mismatches, err := ledger.Verify(ctx, db.Ledger())
	if err != nil || len(mismatches) > 0 {
		t.Fatalf("verify: %v %v", mismatches, err)
	}
}

// Every write transaction on PostgreSQL leaves a commit marker, and the
// purge removes those made before its cutoff only.
func TestCommitMarkersAreWrittenAndPurged(t *testing.T) {
	db := storetest.Open(t, "postgres")
	ctx := context.Background()
	count := func() int {
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM commit_markers").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for range 3 {
		if err := db.Update(ctx, func(tx *store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(); got != before+3 {
		t.Fatalf("three transactions left %d markers, want %d", got-before, 3)
	}
	if n, err := db.PurgeCommitMarkers(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("purging markers older than an hour: %d (%v), want 0", n, err)
	}
	if n, err := db.PurgeCommitMarkers(ctx, time.Now().Add(time.Second)); err != nil || n < 3 {
		t.Fatalf("purging every marker: %d (%v), want at least 3", n, err)
	}
}
