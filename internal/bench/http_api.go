package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// requestTimeout bounds one request of the load and of its setup. It is far
// longer than any latency worth measuring, so that a stalled server shows
// as a long maximum rather than as errors, yet a server that stopped
// answering ends the run instead of hanging it.
const requestTimeout = 2 * time.Minute

// newHTTPClient returns a client with a keep-alive connection for each of
// clients concurrent callers, so that every caller keeps one connection and
// the load measures requests, not TCP handshakes.
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// apiClient speaks the little of the Balanced API a benchmark needs.
type apiClient struct {
	base   string
	secret string
	http   *http.Client
}

// Set-up requests answered 503 are tried again: up to setupTries times,
// setupBackoff apart, which outlasts any burst the set-up itself causes.
const (
	setupTries   = 50
	setupBackoff = 100 * time.Millisecond
)

// answer is one response: its status, headers and body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends body (JSON, when not nil) and reads the whole answer.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.secret != "" {
		req.SetBasicAuth(c.secret, "")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// one sends a request that must answer want and returns the first
// resource of the envelope's plural.
func (c *apiClient) one(ctx context.Context, method, path, plural string, fields map[string]any, want int) (map[string]any, error) {
	var body []byte
	if fields != nil {
		var err error
		if body, err = json.Marshal(fields); err != nil {
			return nil, err
		}
	}
	a, err := c.do(ctx, method, path, body)
	// A 503 wrote nothing (the write path refused to start it): set-up
	// backs off as Retry-After asks and tries again, as any client should.
	for tries := 1; err == nil && a.status == http.StatusServiceUnavailable && tries < setupTries; tries++ {
		select {
		case <-time.After(setupBackoff):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		a, err = c.do(ctx, method, path, body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if a.status != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %s", method, path, a.status, want, strings.TrimSpace(string(a.body)))
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &env); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	// Amounts are read as json.Number, never as floats.
	dec := json.NewDecoder(bytes.NewReader(env[plural]))
	dec.UseNumber()
	var list []map[string]any
	if err := dec.Decode(&list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("%s %s: no %s in the answer: %s", method, path, plural, strings.TrimSpace(string(a.body)))
	}
	return list[0], nil
}

// create POSTs fields to path and returns the new resource's id.
func (c *apiClient) create(ctx context.Context, path, plural string, fields map[string]any) (string, error) {
	r, err := c.one(ctx, http.MethodPost, path, plural, fields, http.StatusCreated)
	if err != nil {
		return "", err
	}
	id, _ := r["id"].(string)
	if id == "" {
		return "", fmt.Errorf("POST %s: the new %s has no id", path, plural)
	}
	return id, nil
}

// amount GETs a resource and reads one of its amounts in minor units.
func (c *apiClient) amount(ctx context.Context, path, plural, field string) (int64, error) {
	r, err := c.one(ctx, http.MethodGet, path, plural, nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	return intField(r, path, field)
}

// intField is a whole number field of a resource read from path.
func intField(r map[string]any, path, field string) (int64, error) {
	n, ok := r[field].(json.Number)
	if !ok {
		return 0, fmt.Errorf("GET %s: no %s", path, field)
	}
	v, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("GET %s: %s: %w", path, field, err)
	}
	return v, nil
}
