package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPOptions describes one case of the HTTP load.
type HTTPOptions struct {
	// Shape is Spread (card debits into random orders), Hot (into one
	// order) or Credits (out of one funded order).
	Shape Shape
	// Clients each send one request, wait for its answer, and send the
	// next (a closed loop), over a keep-alive connection of their own.
	Clients  int
	Duration time.Duration
}

// HTTPResult is what one case measured. Latencies are of answered
// requests, whatever their status.
type HTTPResult struct {
	HTTPOptions
	// Acknowledged counts 2xx answers: operations the server committed.
	Acknowledged int64
	Answered     int64
	Elapsed      time.Duration
	PerSecond    float64
	P50, P99     time.Duration
	Max          time.Duration
	// Statuses counts the answers other than 2xx, by status code.
	Statuses map[int]int64
	// RetryAfter counts the 503 answers that carried Retry-After.
	RetryAfter int64
	// TransportErrors counts requests that got no answer at all (a reset
	// connection, a timeout); FirstTransportError says what the first was.
	TransportErrors     int64
	FirstTransportError string
}

func (r HTTPResult) String() string {
	return fmt.Sprintf("%-7s clients=%-4d ok=%-8d elapsed=%-7s %7.0f ops/s  p50 %-8s p99 %-8s max %-8s errors: %s",
		r.Shape, r.Clients, r.Acknowledged, r.Elapsed.Round(10*time.Millisecond), r.PerSecond,
		roundLatency(r.P50), roundLatency(r.P99), roundLatency(r.Max), r.errors())
}

func (r HTTPResult) errors() string {
	var parts []string
	codes := make([]int, 0, len(r.Statuses))
	for code := range r.Statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	for _, code := range codes {
		p := fmt.Sprintf("%d×%d", code, r.Statuses[code])
		if code == http.StatusServiceUnavailable {
			p += fmt.Sprintf(" (%d with Retry-After)", r.RetryAfter)
		}
		parts = append(parts, p)
	}
	if r.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("no answer×%d (first: %s)", r.TransportErrors, r.FirstTransportError))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// roundLatency keeps two or three significant digits.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// clientTally is what one client saw; merged once the case is over, so
// that clients share nothing while they run.
type clientTally struct {
	latencies       []time.Duration
	statuses        map[int]int64
	retryAfter      int64
	transportErrors int64
	firstError      string
}

// Run drives one case against m's server: opts.Clients closed-loop clients
// for opts.Duration. Requests in flight at the deadline are waited for and
// counted; the rate is over the whole time until the last one answered.
func (m *Marketplace) Run(ctx context.Context, opts HTTPOptions) (HTTPResult, error) {
	if opts.Clients < 1 || opts.Duration <= 0 {
		return HTTPResult{}, fmt.Errorf("a case needs clients and a duration, not %d and %s", opts.Clients, opts.Duration)
	}
	var path string
	var pick func(rng *rand.Rand) *orderTally
	switch opts.Shape {
	case Spread:
		path = "/cards/" + m.card + "/debits"
		pick = func(rng *rand.Rand) *orderTally { return m.orders[rng.IntN(m.spread)] }
	case Hot:
		path = "/cards/" + m.card + "/debits"
		pick = func(*rand.Rand) *orderTally { return m.hot() }
	case Credits:
		path = "/bank_accounts/" + m.bankAccount + "/credits"
		pick = func(*rand.Rand) *orderTally { return m.creditSource() }
	default:
		return HTTPResult{}, fmt.Errorf("no HTTP load of shape %q", opts.Shape)
	}
	client := newHTTPClient(opts.Clients)
	defer client.CloseIdleConnections()
	url := m.api.base + path

	tallies := make([]clientTally, opts.Clients)
	start := time.Now()
	deadline := start.Add(opts.Duration)
	var wg sync.WaitGroup
	for c := range tallies {
		wg.Add(1)
		go func(t *clientTally, seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 9))
			t.statuses = map[int]int64{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				// A client told to retry later does, as Balanced's clients
				// and any polite one would: hammering a server that sheds
				// load only spends its CPU on refusals.
				if wait := m.send(ctx, client, url, pick(rng), t); wait > 0 {
					select {
					case <-time.After(min(wait, time.Until(deadline))):
					case <-ctx.Done():
					}
				}
			}
		}(&tallies[c], uint64(c))
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return HTTPResult{}, err
	}

	r := HTTPResult{HTTPOptions: opts, Elapsed: elapsed, Statuses: map[int]int64{}}
	var all []time.Duration
	for i := range tallies {
		t := &tallies[i]
		all = append(all, t.latencies...)
		for code, n := range t.statuses {
			if code/100 == 2 {
				r.Acknowledged += n
				continue
			}
			r.Statuses[code] += n
		}
		r.RetryAfter += t.retryAfter
		r.TransportErrors += t.transportErrors
		if r.FirstTransportError == "" {
			r.FirstTransportError = t.firstError
		}
	}
	r.Answered = int64(len(all))
	r.PerSecond = float64(r.Acknowledged) / elapsed.Seconds()
	if len(all) > 0 {
		slices.Sort(all)
		r.P50, r.P99, r.Max = percentile(all, 0.50), percentile(all, 0.99), all[len(all)-1]
	}
	return r, nil
}

// send makes one request for order o and tallies its answer. It returns
// how long the server asked the client to wait before trying again.
func (m *Marketplace) send(ctx context.Context, client *http.Client, url string, o *orderTally, t *clientTally) (retryAfter time.Duration) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(o.body))
	if err != nil {
		panic(err) // the URL and body are the harness's own
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(m.api.secret, "")
	began := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		// Reading the body to its end keeps the connection for the next
		// request.
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	took := time.Since(began)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		t.transportErrors++
		if t.firstError == "" {
			t.firstError = err.Error()
		}
		o.unknown.Add(1)
		return 0
	}
	t.latencies = append(t.latencies, took)
	t.statuses[resp.StatusCode]++
	switch {
	case resp.StatusCode/100 == 2:
		o.acknowledged.Add(1)
	case resp.StatusCode == http.StatusServiceUnavailable:
		// Refused before it was written: the contract of 503.
		if header := resp.Header.Get("Retry-After"); header != "" {
			t.retryAfter++
			if seconds, err := strconv.Atoi(header); err == nil && seconds > 0 {
				retryAfter = time.Duration(seconds) * time.Second
			}
		}
	case resp.StatusCode >= 500:
		// The server failed somewhere, perhaps after its commit.
		o.unknown.Add(1)
	}
	return retryAfter
}

// percentile is the q-quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
