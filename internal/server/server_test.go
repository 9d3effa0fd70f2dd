package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/server"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// running is a server over a real SQLite store, answering on a real socket.
type running struct {
	db  *store.DB
	l   *ledger.Ledger
	url string
}

func start(t *testing.T, api http.Handler) *running {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	srv, err := server.New(server.Options{Store: db, Ledger: l, API: api})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &running{db: db, l: l, url: ts.URL}
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestHealthz(t *testing.T) {
	r := start(t, nil)
	code, h, body := get(t, r.url+"/healthz")
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("healthz = %d %q %s", code, h.Get("Content-Type"), body)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || got["status"] != "ok" {
		t.Errorf("healthz body %s (%v)", body, err)
	}
}

func TestReadyzWhenStoreAndCommitterWork(t *testing.T) {
	r := start(t, nil)
	code, h, body := get(t, r.url+"/readyz")
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("readyz = %d %q %s", code, h.Get("Content-Type"), body)
	}
	var got struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "ready" || got.Checks["store"] != "ok" || got.Checks["primary"] != "ok" || got.Checks["committer"] != "ok" {
		t.Errorf("readyz body %s", body)
	}
}

func TestReadyzFailsOnceTheCommitterCloses(t *testing.T) {
	r := start(t, nil)
	if err := r.l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, _, body := get(t, r.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"committer":"failing"`) {
		t.Fatalf("readyz after close = %d %s, want 503 naming the committer", code, body)
	}
	// Still alive: only readiness depends on the write path.
	if code, _, _ := get(t, r.url+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz after close = %d", code)
	}
}

func TestReadyzFailsWhenTheStoreIsGone(t *testing.T) {
	r := start(t, nil)
	r.db.Close()
	code, _, body := get(t, r.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"store":"failing"`) {
		t.Fatalf("readyz with a closed store = %d %s, want 503 naming the store", code, body)
	}
}

func TestMetrics(t *testing.T) {
	r := start(t, nil)
	// Some work for the counters: a transfer through the committer, and
	// requests to count.
	ctx := context.Background()
	src, err := r.l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "card", Currency: "USD", MayGoNegative: true})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := r.l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "escrow", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.l.Transfer(ctx, ledger.TransferRequest{Postings: []ledger.Posting{
		{AccountID: src.ID, AmountMinor: -100}, {AccountID: dst.ID, AmountMinor: 100}}}); err != nil {
		t.Fatal(err)
	}
	get(t, r.url+"/healthz")
	get(t, r.url+"/no/such/path/TR123")

	code, h, body := get(t, r.url+"/metrics")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics = %d %q", code, h.Get("Content-Type"))
	}
	for _, want := range []string{
		"poise_committer_batches_total ",
		"poise_committer_ops_total 3",
		"poise_committer_fallbacks_total 0",
		"poise_committer_withdrawn_total 0",
		`poise_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		// Paths nobody routes are counted under one label, never by path.
		`poise_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`poise_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="+Inf"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "TR123") {
		t.Error("a path reached a metric label")
	}
}

func TestAPIIsMountedBehindTheMetrics(t *testing.T) {
	api := http.NewServeMux()
	api.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "pong") })
	r := start(t, api)
	if code, _, body := get(t, r.url+"/v1/ping"); code != http.StatusOK || body != "pong" {
		t.Fatalf("api = %d %s", code, body)
	}
	// An API routed by a ServeMux labels its requests with its own patterns.
	if _, _, body := get(t, r.url+"/metrics"); !strings.Contains(body, `route="GET /v1/ping"`) {
		t.Errorf("API requests are not counted by their route:\n%s", body)
	}
}

// A path that is not clean reaches the API as sent, never a redirect that a
// client would follow with its POST to another endpoint.
func TestUncleanPathsReachTheAPIAsSent(t *testing.T) {
	var seen []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	})
	r := start(t, api)
	for _, p := range []string{"/customers/../cards", "//cards", "/customers/./cards"} {
		req, _ := http.NewRequest(http.MethodPost, r.url+p, strings.NewReader(`{}`))
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d (Location %q), want the API's 404", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if len(seen) != 3 || seen[0] != "POST /customers/../cards" || seen[1] != "POST //cards" {
		t.Errorf("the API saw %q", seen)
	}
}

func TestServeStopsWhenItsContextEnds(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	defer l.Close(context.Background())
	srv, err := server.New(server.Options{Store: db, Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Serve(ctx, ln) }()
	if code, _, _ := get(t, "http://"+ln.Addr().String()+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("the server still answers after it stopped")
	}
}

// Profiles are served on their own listener and stop with their context.
func TestServeProfiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeProfiles(ctx, ln, slog.New(slog.DiscardHandler)) }()
	code, _, body := get(t, "http://"+ln.Addr().String()+"/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine profile = %d %.200s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeProfiles = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeProfiles did not stop with its context")
	}
}

func TestProfilesOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:0": true, "localhost:6060": true,
		":6060": false, "0.0.0.0:6060": false, "[::]:6060": false, "192.168.1.5:6060": false, "127.0.0.1": false,
	} {
		if err := server.CheckProfilesAddress(addr); (err == nil) != ok {
			t.Errorf("CheckProfilesAddress(%q) = %v, want accepted %v", addr, err, ok)
		}
	}
}
