package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/cli"
)

// A write that waits on SQLite's busy timeout waits all of it: 5 s. A
// fresh server with callback deliveries to make used to stop every write
// for that long, twice, while the committer waited for a second connection
// to prepare a statement and the deliverer held it, waiting for the
// committer's lock. No request may now take as long as the busy timeout.
const sqliteBusyTimeout = 5 * time.Second

// stallProbe says how hard the fresh server is driven: enough clients that
// batches of new sizes (new statement texts) appear at once, for long
// enough that the deliverer works through its backlog meanwhile.
const (
	stallProbeClients  = 32
	stallProbeDuration = 3 * time.Second
	// stallBacklogEvents is several of the deliverer's batches of 100.
	stallBacklogEvents = 400
)

func TestAFreshSQLiteServerDoesNotStallBehindCallbackDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a server for seconds")
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer receiver.Close()
	dir := t.TempDir()

	// First life: a marketplace with a callback and a backlog of events
	// not yet dispatched when the server stops.
	var secret, card string
	withServer(t, dir, func(api *apiClient) {
		secret = api.post(t, "/api_keys", nil, 201)["api_keys"].([]any)[0].(map[string]any)["secret"].(string)
		api.secret = secret
		api.post(t, "/marketplaces", nil, 201)
		api.post(t, "/callbacks", url.Values{"url": {receiver.URL}}, 201)
		card = api.post(t, "/cards", url.Values{"number": {"4111111111111111"}, "expiration_month": {"12"}, "expiration_year": {"2030"}}, 201)["cards"].([]any)[0].(map[string]any)["id"].(string)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < stallBacklogEvents/8; i++ {
					if status, body := api.do(http.MethodPost, "/customers", url.Values{"name": {"Backlog"}}); status != 201 {
						t.Errorf("POST /customers = %d: %v", status, body)
						return
					}
				}
			}()
		}
		wg.Wait()
	})

	// Second life: a fresh server, a backlog to deliver, and a burst of
	// debits at once.
	withServer(t, dir, func(api *apiClient) {
		api.secret = secret
		var ok, failed atomic.Int64
		var mu sync.Mutex
		var longest time.Duration
		deadline := time.Now().Add(stallProbeDuration)
		var wg sync.WaitGroup
		for c := 0; c < stallProbeClients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					start := time.Now()
					status, _ := api.do(http.MethodPost, "/cards/"+card+"/debits", url.Values{"amount": {"100"}})
					took := time.Since(start)
					mu.Lock()
					longest = max(longest, took)
					mu.Unlock()
					if status == 201 {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d debits, %d failed, longest wait %s", ok.Load(), failed.Load(), longest)
		if failed.Load() != 0 {
			t.Errorf("%d debits failed", failed.Load())
		}
		if longest >= sqliteBusyTimeout {
			t.Errorf("a debit waited %s, as long as SQLite's busy timeout: the write path stalled", longest)
		}
	})
}

// withServer runs poise serve on SQLite in dir for the length of fn.
func withServer(t *testing.T, dir string, fn func(api *apiClient)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr output
	env := cli.Env{Lookup: func(string) (string, bool) { return "", false }, Stdout: &stdout, Stderr: &stderr, Version: "test"}
	exited := make(chan int, 1)
	go func() {
		// Admission by time would answer a slow write 503 before it could
		// show a stall: this test is about the stall alone.
		exited <- cli.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--write-admission-timeout", "1m"}, env)
	}()
	addr := waitForListening(t, &stderr, exited)
	fn(&apiClient{root: "http://" + addr, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

type apiClient struct {
	root, secret string
	http         *http.Client
}

func (a *apiClient) do(method, path string, form url.Values) (int, map[string]any) {
	req, err := http.NewRequest(method, a.root+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a.secret != "" {
		req.SetBasicAuth(a.secret, "")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// post is for the test's own goroutine: it stops the test on a surprise.
func (a *apiClient) post(t *testing.T, path string, form url.Values, want int) map[string]any {
	t.Helper()
	status, body := a.do(http.MethodPost, path, form)
	if status != want {
		t.Fatalf("POST %s = %d, want %d: %v", path, status, want, body)
	}
	return body
}
