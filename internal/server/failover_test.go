package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/server"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// link stands between the store and PostgreSQL on a fixed loopback port,
// and can be cut (every connection dropped, new ones refused) and mended,
// as a primary that dies and a new one that takes its address.
type link struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newLink(t *testing.T, target string) *link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &link{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	k.serve(ln)
	t.Cleanup(k.cut)
	return k
}

func (k *link) serve(ln net.Listener) {
	k.mu.Lock()
	k.ln = ln
	k.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", k.target)
			if err != nil {
				c.Close()
				continue
			}
			k.mu.Lock()
			k.conns[c], k.conns[up] = true, true
			k.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut drops every connection and stops listening.
func (k *link) cut() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ln != nil {
		k.ln.Close()
		k.ln = nil
	}
	for c := range k.conns {
		c.Close()
	}
	k.conns = map[net.Conn]bool{}
}

// mend listens again on the same address.
func (k *link) mend() {
	k.t.Helper()
	ln, err := net.Listen("tcp", k.addr)
	if err != nil {
		k.t.Fatal(err)
	}
	k.serve(ln)
}

// readyStatus polls /readyz until it answers want or the wait ends, and
// returns the last status and body.
func readyStatus(t *testing.T, base string, want int, wait time.Duration) (int, string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, _, body := get(t, base+"/readyz")
		if code == want || time.Now().After(deadline) {
			return code, body
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// While no writable primary answers, /readyz says 503, so that a load
// balancer holds requests back; once one answers again, the same instance
// (same pool, same committer) says 200 without a restart.
func TestReadyzFollowsThePrimaryAway(t *testing.T) {
	storetest.RequirePostgres(t)
	base := storetest.URL(t, "postgres")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	k := newLink(t, u.Host)
	u.Host = k.addr
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "1")
	u.RawQuery = q.Encode()
	db := storetest.OpenURL(t, u.String())
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	srv, err := server.New(server.Options{Store: db, Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	if code, body := readyStatus(t, ts.URL, http.StatusOK, 0); code != http.StatusOK {
		t.Fatalf("readyz before the fault = %d %s", code, body)
	}
	k.cut()
	code, body := readyStatus(t, ts.URL, http.StatusServiceUnavailable, 5*time.Second)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing"`) {
		t.Fatalf("readyz with no primary = %d %s, want 503", code, body)
	}
	// Still alive: a restart would not help.
	if code, _, _ := get(t, ts.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz with no primary = %d", code)
	}
	k.mend()
	if code, body := readyStatus(t, ts.URL, http.StatusOK, 10*time.Second); code != http.StatusOK {
		t.Fatalf("readyz once the primary is back = %d %s, want 200", code, body)
	}
}

// A store that reaches a standby (a URL without target_session_attrs) is
// not ready: the database answers, an empty commit works, but no write
// would.
func TestReadyzFailsOnAReadOnlyDatabase(t *testing.T) {
	storetest.RequirePostgres(t)
	u, err := url.Parse(storetest.URL(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	srv, err := server.New(server.Options{Store: db, Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	code, _, body := get(t, ts.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"primary":"failing"`) {
		t.Fatalf("readyz on a read-only database = %d %s, want 503 naming the primary", code, body)
	}
}
