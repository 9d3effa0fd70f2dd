// Command hatest drives a failover test of Poise on a replicated PostgreSQL;
// scripts/ha-failover.sh starts the cluster and the instances and runs it.
//
// It sends card debits (into an order and into the marketplace escrow) and
// order credits, each with its own Idempotency-Key, through every instance
// in turn, and retries a request that got no answer, or an answer of 5xx,
// with the same key until it is acknowledged. Meanwhile it kills the
// cluster's leader, or switches it over, as many times as asked, waiting
// each time until the cluster has a synchronous standby again. Then it
// checks, against the database and the API:
//
//   - lost: an acknowledged operation missing, or stored under another ID;
//   - applied twice: a key whose operation exists more than once;
//   - unresolved: an operation never acknowledged in the time allowed;
//   - escrow: the order's and the marketplace's escrow equal what the
//     acknowledged operations put in and took out;
//   - readiness: every instance's /readyz, asked as a load balancer would,
//     said not ready while no primary took writes, and ready at the end.
//
// It exits 1 when any of these is not zero.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Limits.
const (
	// attemptTimeout bounds one HTTP attempt. An attempt that waits on a
	// dead primary is cut here and retried; a healthy one takes
	// milliseconds.
	attemptTimeout = 15 * time.Second
	// retryPause spaces the retries of one operation.
	retryPause = 250 * time.Millisecond
	// resolveTimeout bounds how long one operation is retried before it is
	// reported unresolved: several failovers' worth.
	resolveTimeout = 2 * time.Minute
	// healthyTimeout bounds the wait for the cluster to have a leader and
	// a synchronous standby again.
	healthyTimeout = 2 * time.Minute
	// minKillPause is less than any failover takes: a new primary is
	// promoted only once the old one's lock in etcd expired.
	minKillPause = time.Second
	// probeInterval and probeTimeout are a load balancer's readiness
	// probe: often, and given about what /readyz allows itself.
	probeInterval = 250 * time.Millisecond
	probeTimeout  = 3 * time.Second
	// resumeTimeout bounds the wait for writes after a fault.
	resumeTimeout = time.Minute
)

type config struct {
	apis          []string
	patroni       []string
	databaseURL   string
	killCmd       string
	startCmd      string
	switchoverCmd string
	kills         int
	switchovers   int
	workers       int
	loadBetween   time.Duration
}

func main() {
	var cfg config
	var apis, patroni string
	flag.StringVar(&apis, "api", "", "comma-separated base URLs of the Poise instances")
	flag.StringVar(&patroni, "patroni", "", "comma-separated Patroni REST API URLs")
	flag.StringVar(&cfg.databaseURL, "database-url", "", "the cluster's PostgreSQL URL")
	flag.StringVar(&cfg.killCmd, "kill-cmd", "", "command that kills a node; the node's name is appended")
	flag.StringVar(&cfg.startCmd, "start-cmd", "", "command that starts a node again; the node's name is appended")
	flag.StringVar(&cfg.switchoverCmd, "switchover-cmd", "", "command that switches over; --leader and --candidate are appended")
	flag.IntVar(&cfg.kills, "kills", 5, "how many times the leader is killed")
	flag.IntVar(&cfg.switchovers, "switchovers", 1, "how many planned switchovers")
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent clients")
	flag.DurationVar(&cfg.loadBetween, "load-between", 3*time.Second, "load before each fault, once the cluster is healthy")
	flag.Parse()
	cfg.apis = strings.Split(apis, ",")
	cfg.patroni = strings.Split(patroni, ",")
	if apis == "" || patroni == "" || cfg.databaseURL == "" || cfg.killCmd == "" || cfg.startCmd == "" || cfg.switchoverCmd == "" {
		fmt.Fprintln(os.Stderr, "hatest: --api, --patroni, --database-url, --kill-cmd, --start-cmd and --switchover-cmd are required")
		os.Exit(2)
	}
	ok, err := run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hatest:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// op is one money operation and what became of it.
type op struct {
	key      string
	kind     string // "debit-order", "debit-escrow" or "credit"
	amount   int64
	attempts int
	acked    bool
	ackID    string
	ackedAt  time.Time
	// replayed: the acknowledgement was the stored answer of an earlier
	// attempt, one that had committed although its client saw it fail.
	replayed bool
	// errors counts the failed attempts by what was seen.
	errors map[string]int
}

// fault is one injected failure and how long writes paused for it.
type fault struct {
	kind    string // "kill" or "switchover"
	node    string
	at      time.Time
	resumed time.Duration
	pause   time.Duration
}

// probe is one answer of an instance's /readyz.
type probe struct {
	at    time.Time
	ready bool
}

type driver struct {
	cfg        config
	probes     [][]probe // by instance
	client     *http.Client
	secret     string
	market     string
	merchant   string
	order      string
	mu         sync.Mutex
	ops        []*op
	ackTimes   []time.Time
	lastAckAt  time.Time
	firstAfter map[int]time.Time // fault index → first ack of an attempt sent after it
	faultStart []time.Time
}

func run(ctx context.Context, cfg config) (bool, error) {
	d := &driver{cfg: cfg, client: &http.Client{Timeout: attemptTimeout}, firstAfter: map[int]time.Time{}, probes: make([][]probe, len(cfg.apis))}
	if err := d.setUp(ctx); err != nil {
		return false, fmt.Errorf("set up: %w", err)
	}
	baseOrder, baseEscrow, err := d.escrows(ctx)
	if err != nil {
		return false, err
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, api := range cfg.apis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.watchReadiness(i, api, stop)
		}()
	}
	for w := range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, w, stop)
		}()
	}

	var faults []*fault
	plan := make([]string, 0, cfg.kills+cfg.switchovers)
	for range cfg.kills {
		plan = append(plan, "kill")
	}
	// The switchover in the middle, between kills.
	for i := range cfg.switchovers {
		at := min(len(plan), (i+1)*len(plan)/(cfg.switchovers+1)+i)
		plan = append(plan[:at], append([]string{"switchover"}, plan[at:]...)...)
	}
	var runErr error
	for i, kind := range plan {
		leader, standby, err := d.waitHealthy(ctx)
		if err != nil {
			runErr = fmt.Errorf("before fault %d: %w", i+1, err)
			break
		}
		time.Sleep(cfg.loadBetween)
		f := &fault{kind: kind, node: leader}
		// Writes have resumed once an attempt sent after the old primary
		// stopped taking them is acknowledged: after the kill, or after the
		// switchover (the old primary works until it demotes). A kill
		// counts from when it was done; a switchover from when it was
		// asked for, its pause being part of it.
		f.at = time.Now()
		switch kind {
		case "kill":
			err = shell(ctx, cfg.killCmd+" "+leader)
			f.at = time.Now()
		case "switchover":
			err = shell(ctx, cfg.switchoverCmd+" --leader "+leader+" --candidate "+standby)
		}
		d.markFault(time.Now())
		if err != nil {
			runErr = fmt.Errorf("fault %d (%s of %s): %w", i+1, kind, leader, err)
			break
		}
		resumed, err := d.waitResumed(i)
		if err != nil {
			runErr = fmt.Errorf("fault %d (%s of %s): %w", i+1, kind, leader, err)
			break
		}
		f.resumed = resumed.Sub(f.at)
		faults = append(faults, f)
		if kind == "kill" && f.resumed < minKillPause {
			// Writes that never stopped mean the primary did not die: the
			// fault was not made, and the run proves nothing about it.
			runErr = fmt.Errorf("fault %d: writes went on %s after killing %s; the kill did not take", i+1, f.resumed, leader)
			break
		}
		fmt.Printf("%s fault %d: %-10s of %s, writes resumed after %.1f s\n", f.at.UTC().Format("15:04:05.000"), i+1, kind, leader, f.resumed.Seconds())
		if kind == "kill" {
			if err := shell(ctx, cfg.startCmd+" "+leader); err != nil {
				runErr = fmt.Errorf("restart %s: %w", leader, err)
				break
			}
		}
	}
	if runErr == nil {
		if _, _, err := d.waitHealthy(ctx); err != nil {
			runErr = fmt.Errorf("after the faults: %w", err)
		}
		time.Sleep(cfg.loadBetween)
	}
	close(stop)
	wg.Wait()
	d.measurePauses(faults)
	return d.check(ctx, faults, baseOrder, baseEscrow, runErr)
}

func shell(ctx context.Context, command string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", command, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// --- the API ---------------------------------------------------------------

// call sends one request and decodes a 2xx answer into out. It reports
// whether the answer was a replay of a stored one.
func (d *driver) call(ctx context.Context, api, method, path string, form url.Values, key string, out any) (int, bool, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, api+path, body)
	if err != nil {
		return 0, false, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/vnd.api+json;revision=1.1")
	if d.secret != "" {
		req.SetBasicAuth(d.secret, "")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, false, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, false, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, false, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed") != "", nil
}

// firstField reads a field of the first resource of a list in an answer.
func firstField(doc map[string]any, list, field string) (any, error) {
	items, _ := doc[list].([]any)
	if len(items) == 0 {
		return nil, fmt.Errorf("no %s in the answer", list)
	}
	first, _ := items[0].(map[string]any)
	return first[field], nil
}

// firstID reads the ID of the first resource of a list in an answer.
func firstID(doc map[string]any, list string) (string, error) {
	v, err := firstField(doc, list, "id")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	if s == "" {
		return "", fmt.Errorf("no id in the %s answer", list)
	}
	return s, nil
}

func (d *driver) setUp(ctx context.Context) error {
	api := d.cfg.apis[0]
	var doc map[string]any
	if _, _, err := d.call(ctx, api, "POST", "/api_keys", url.Values{}, "", &doc); err != nil {
		return err
	}
	secret, err := firstField(doc, "api_keys", "secret")
	if err != nil {
		return err
	}
	d.secret, _ = secret.(string)
	if _, _, err := d.call(ctx, api, "POST", "/marketplaces", url.Values{}, "", &doc); err != nil {
		return err
	}
	if d.market, err = firstID(doc, "marketplaces"); err != nil {
		return err
	}
	if _, _, err := d.call(ctx, api, "POST", "/customers", url.Values{"name": {"Failover Merchant"}}, "", &doc); err != nil {
		return err
	}
	if d.merchant, err = firstID(doc, "customers"); err != nil {
		return err
	}
	bank := url.Values{"name": {"Failover Merchant"}, "account_number": {"9900000002"}, "routing_number": {"021000021"}}
	if _, _, err := d.call(ctx, api, "POST", "/customers/"+d.merchant+"/bank_accounts", bank, "", &doc); err != nil {
		return err
	}
	if _, _, err := d.call(ctx, api, "POST", "/customers/"+d.merchant+"/orders", url.Values{}, "", &doc); err != nil {
		return err
	}
	d.order, err = firstID(doc, "orders")
	return err
}

// escrows reads the order's and the marketplace's available escrow.
func (d *driver) escrows(ctx context.Context) (order, market int64, err error) {
	var doc map[string]any
	for _, api := range d.cfg.apis {
		if _, _, err = d.call(ctx, api, "GET", "/orders/"+d.order, nil, "", &doc); err != nil {
			continue
		}
		v, _ := firstField(doc, "orders", "amount_escrowed")
		o, _ := v.(float64)
		if _, _, err = d.call(ctx, api, "GET", "/marketplaces/"+d.market, nil, "", &doc); err != nil {
			continue
		}
		v, _ = firstField(doc, "marketplaces", "in_escrow")
		m, _ := v.(float64)
		return int64(o), int64(m), nil
	}
	return 0, 0, err
}

// --- load --------------------------------------------------------------------

func newKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "ha-" + hex.EncodeToString(b)
}

// work sends operations until stop closes, each one retried until it is
// acknowledged. Its credits never take more than its own acknowledged
// order debits put in, so no credit can be refused for funds.
func (d *driver) work(ctx context.Context, w int, stop <-chan struct{}) {
	var budget int64
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		o := &op{key: newKey(), errors: map[string]int{}}
		form := url.Values{"description": {o.key}}
		path := "/debits"
		switch r := mrand.IntN(10); {
		case r < 3 && budget >= 100:
			o.kind = "credit"
			o.amount = 50 + mrand.Int64N(min(budget, 2000)-49)
			path = "/customers/" + d.merchant + "/credits"
			form.Set("order", d.order)
		case r < 7:
			o.kind = "debit-order"
			form.Set("order", d.order)
		default:
			o.kind = "debit-escrow"
		}
		if o.kind != "credit" {
			o.amount = 100 + mrand.Int64N(9900)
			form.Set("source[number]", "4111111111111111")
			form.Set("source[expiration_month]", "12")
			form.Set("source[expiration_year]", "2030")
		}
		form.Set("amount", fmt.Sprint(o.amount))
		d.mu.Lock()
		d.ops = append(d.ops, o)
		d.mu.Unlock()
		d.resolve(ctx, w+n, o, path, form)
		if o.acked {
			switch o.kind {
			case "debit-order":
				budget += o.amount
			case "credit":
				budget -= o.amount
			}
		}
	}
}

// resolve sends o until it is acknowledged, alternating between the
// instances, always with the same key and body.
func (d *driver) resolve(ctx context.Context, turn int, o *op, path string, form url.Values) {
	list := "debits"
	if o.kind == "credit" {
		list = "credits"
	}
	deadline := time.Now().Add(resolveTimeout)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		api := d.cfg.apis[(turn+attempt)%len(d.cfg.apis)]
		sent := time.Now()
		var doc map[string]any
		o.attempts++
		code, replayed, err := d.call(ctx, api, "POST", path, form, o.key, &doc)
		if err == nil {
			id, idErr := firstID(doc, list)
			if idErr == nil {
				o.replayed = replayed
				d.ack(o, id, sent)
				return
			}
			err = idErr
		}
		switch {
		case code == 0:
			o.errors["no answer"]++
		case code >= 500:
			o.errors[fmt.Sprint(code)]++
		default:
			// A 4xx is an answer, not an outage: retrying it would only
			// repeat it. Such an operation stays unacknowledged.
			o.errors[fmt.Sprint(code)]++
			fmt.Fprintf(os.Stderr, "hatest: %s %s refused: %v\n", o.kind, o.key, err)
			return
		}
		time.Sleep(retryPause)
	}
}

func (d *driver) ack(o *op, id string, sent time.Time) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	o.acked, o.ackID, o.ackedAt = true, id, now
	d.ackTimes = append(d.ackTimes, now)
	d.lastAckAt = now
	for i, start := range d.faultStart {
		if !sent.Before(start) {
			if _, seen := d.firstAfter[i]; !seen {
				d.firstAfter[i] = now
			}
		}
	}
}

// watchReadiness asks an instance's /readyz every probeInterval until stop
// closes, as a load balancer does, and keeps the answers.
func (d *driver) watchReadiness(i int, api string, stop <-chan struct{}) {
	client := &http.Client{Timeout: probeTimeout}
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		at := time.Now()
		ready := false
		if resp, err := client.Get(api + "/readyz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
		d.mu.Lock()
		d.probes[i] = append(d.probes[i], probe{at: at, ready: ready})
		d.mu.Unlock()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// unready sums, for instance i, the time its probes sent within
// [from, to) found it not ready (each probe standing for one interval).
func (d *driver) unready(i int, from, to time.Time) (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var total time.Duration
	seen := false
	for _, p := range d.probes[i] {
		if !p.at.Before(from) && p.at.Before(to) && !p.ready {
			total += probeInterval
			seen = true
		}
	}
	return total, seen
}

// readyAtEnd reports whether the last probe of every instance was ready.
func (d *driver) readyAtEnd() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ps := range d.probes {
		if len(ps) == 0 || !ps[len(ps)-1].ready {
			return false
		}
	}
	return true
}

// markFault starts watching for the first acknowledgement of an attempt
// sent after since.
func (d *driver) markFault(since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faultStart = append(d.faultStart, since)
}

// waitResumed waits for the first acknowledgement of an attempt sent after
// fault i began.
func (d *driver) waitResumed(i int) (time.Time, error) {
	deadline := time.Now().Add(resumeTimeout)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		at, ok := d.firstAfter[i]
		d.mu.Unlock()
		if ok {
			return at, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("writes did not resume within %s", resumeTimeout)
}

// measurePauses finds, for each fault, the longest time without any
// acknowledgement from the fault until writes resumed.
func (d *driver) measurePauses(faults []*fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	times := append([]time.Time(nil), d.ackTimes...)
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for _, f := range faults {
		end := f.at.Add(f.resumed)
		prev := f.at
		for _, t := range times {
			if t.Before(f.at) {
				continue
			}
			if t.After(end) {
				break
			}
			f.pause = max(f.pause, t.Sub(prev))
			prev = t
		}
	}
}

// --- the cluster -------------------------------------------------------------

type member struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
}

// waitHealthy waits for a running leader and a streaming synchronous
// standby, and names them.
func (d *driver) waitHealthy(ctx context.Context) (leader, standby string, err error) {
	deadline := time.Now().Add(healthyTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		for _, p := range d.cfg.patroni {
			resp, err := client.Get(p + "/cluster")
			if err != nil {
				continue
			}
			var c struct{ Members []member }
			err = json.NewDecoder(resp.Body).Decode(&c)
			resp.Body.Close()
			if err != nil {
				continue
			}
			leader, standby = "", ""
			for _, m := range c.Members {
				switch {
				case m.Role == "leader" && m.State == "running":
					leader = m.Name
				case m.Role == "sync_standby" && (m.State == "streaming" || m.State == "running"):
					standby = m.Name
				}
			}
			if leader != "" && standby != "" {
				return leader, standby, nil
			}
			break
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return "", "", errors.New("the cluster has no leader with a synchronous standby")
}

// --- the checks --------------------------------------------------------------

// storedOp is a debit or credit as the database holds it.
type storedOp struct {
	id      string
	typ     string
	amount  int64
	inOrder bool
}

// stored reads, by key (kept in the description), the debits and credits
// stored under it, straight from the database.
func (d *driver) stored(ctx context.Context) (map[string][]storedOp, error) {
	db, err := sql.Open("pgx", d.cfg.databaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT id, type, body FROM resources WHERE marketplace_id = $1 AND type IN ('debits', 'credits')", d.market)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byKey := map[string][]storedOp{}
	for rows.Next() {
		var s storedOp
		var body string
		if err := rows.Scan(&s.id, &s.typ, &body); err != nil {
			return nil, err
		}
		var doc struct {
			Fields struct {
				Description string `json:"description"`
				Amount      int64  `json:"amount"`
			} `json:"fields"`
			Links map[string]string `json:"links"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return nil, fmt.Errorf("resource %s: %w", s.id, err)
		}
		s.amount, s.inOrder = doc.Fields.Amount, doc.Links["order"] != ""
		byKey[doc.Fields.Description] = append(byKey[doc.Fields.Description], s)
	}
	return byKey, rows.Err()
}

// report prints a finding, up to a few of each kind.
func report(shown map[string]int, kind, format string, args ...any) {
	shown[kind]++
	if shown[kind] <= 10 {
		fmt.Printf(kind+": "+format+"\n", args...)
	}
}

func (d *driver) check(ctx context.Context, faults []*fault, baseOrder, baseEscrow int64, runErr error) (bool, error) {
	d.mu.Lock()
	ops := append([]*op(nil), d.ops...)
	d.mu.Unlock()
	byKey, err := d.stored(ctx)
	if err != nil {
		return false, fmt.Errorf("read the stored operations: %w", err)
	}
	shown := map[string]int{}
	var acked, retried, retriedAcked, replayedAcked, lost, twice, unresolved, notApplied int
	wantOrder, wantEscrow := baseOrder, baseEscrow
	seen := map[string]int{}
	for _, o := range ops {
		stored := byKey[o.key]
		delete(byKey, o.key)
		if len(stored) > 1 {
			twice++
			report(shown, "applied twice", "%s %s stored %d times", o.kind, o.key, len(stored))
		}
		if o.attempts > 1 {
			retried++
		}
		if !o.acked {
			unresolved++
			if len(stored) == 0 {
				notApplied++
			}
			report(shown, "unresolved", "%s %s after %d attempts %v, stored %d times", o.kind, o.key, o.attempts, o.errors, len(stored))
			continue
		}
		acked++
		if o.attempts > 1 {
			retriedAcked++
			if o.replayed {
				replayedAcked++
			}
		}
		seen[o.ackID]++
		found := false
		for _, s := range stored {
			found = found || s.id == o.ackID && s.amount == o.amount
		}
		if !found {
			lost++
			report(shown, "lost", "%s %s acknowledged as %s, stored as %v", o.kind, o.key, o.ackID, stored)
		}
		switch o.kind {
		case "debit-order":
			wantOrder += o.amount
		case "debit-escrow":
			wantEscrow += o.amount
		case "credit":
			wantOrder -= o.amount
		}
	}
	for id, n := range seen {
		if n > 1 {
			twice++
			report(shown, "applied twice", "%s acknowledged for %d keys", id, n)
		}
	}
	// Nothing may be stored that no client sent.
	stray := 0
	for key, stored := range byKey {
		stray += len(stored)
		report(shown, "stray", "%d operations under %q", len(stored), key)
	}
	gotOrder, gotEscrow, err := d.escrows(ctx)
	if err != nil {
		return false, fmt.Errorf("read escrow: %w", err)
	}
	errorsSeen := map[string]int{}
	for _, o := range ops {
		for k, n := range o.errors {
			errorsSeen[k] += n
		}
	}

	readyProblems := 0
	fmt.Println("--- failover figures")
	fmt.Printf("faults:                   %d (%s)\n", len(faults), faultKinds(faults))
	for i, f := range faults {
		fmt.Printf("  %d. %-10s of %s: writes resumed after %.1f s (longest gap between acknowledgements %.1f s); /readyz not ready",
			i+1, f.kind, f.node, f.resumed.Seconds(), f.pause.Seconds())
		for inst := range d.cfg.apis {
			down, seen := d.unready(inst, f.at, f.at.Add(f.resumed))
			fmt.Printf(" %.2f s on instance %d", down.Seconds(), inst)
			// Every instance must say so while no primary takes writes,
			// or a load balancer would keep sending it traffic.
			if f.kind == "kill" && !seen {
				readyProblems++
			}
		}
		fmt.Println()
	}
	if !d.readyAtEnd() {
		readyProblems++
		fmt.Println("an instance was not ready at the end")
	}
	fmt.Printf("readiness problems:       %d (an instance ready throughout a failover, or not ready at the end)\n", readyProblems)
	fmt.Printf("operations sent:          %d (%d needed a retry with the same key)\n", len(ops), retried)
	fmt.Printf("acknowledged operations:  %d (%d after a retry)\n", acked, retriedAcked)
	fmt.Printf("  of those retried, %d were committed by an attempt whose client saw an error (replayed on retry), %d applied by the retry itself\n",
		replayedAcked, retriedAcked-replayedAcked)
	fmt.Printf("failed attempts by cause: %v\n", errorsSeen)
	fmt.Printf("lost:                     %d\n", lost)
	fmt.Printf("applied twice:            %d\n", twice)
	fmt.Printf("unresolved:               %d (%d of them not applied)\n", unresolved, notApplied)
	fmt.Printf("stored, never sent:       %d\n", stray)
	fmt.Printf("order escrow:             %d, acknowledged operations say %d\n", gotOrder, wantOrder)
	fmt.Printf("marketplace escrow:       %d, acknowledged operations say %d\n", gotEscrow, wantEscrow)
	ok := lost == 0 && twice == 0 && unresolved == 0 && stray == 0 && readyProblems == 0 && gotOrder == wantOrder && gotEscrow == wantEscrow && runErr == nil
	if runErr != nil {
		fmt.Println("run error:", runErr)
	}
	if len(faults) != d.cfg.kills+d.cfg.switchovers {
		ok = false
		fmt.Printf("only %d of %d faults were made\n", len(faults), d.cfg.kills+d.cfg.switchovers)
	}
	return ok, nil
}

func faultKinds(faults []*fault) string {
	n := map[string]int{}
	for _, f := range faults {
		n[f.kind]++
	}
	return fmt.Sprintf("%d kill -9 of the leader, %d switchover", n["kill"], n["switchover"])
}
