package dashboard

import (
	"strconv"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
)

func TestParseAmountMinor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: refused
	}{
		{"12", 1200}, {"12.5", 1250}, {"12.34", 1234}, {"$0.01", 1}, {" 7.00 ", 700},
		{"10000000", payments.MaxAmountMinor}, {"10000000.01", 0}, {"0", 0}, {"0.00", 0},
		{"", 0}, {".5", 0}, {"5.", 0}, {"1.234", 0}, {"-1", 0}, {"1e3", 0}, {"1,000", 0},
		{"99999999999999999999", 0}, {"٣", 0},
	} {
		got, err := parseAmountMinor(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%q: %d, want a refusal", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	for in, want := range map[int64]string{0: "$0.00", 5: "$0.05", 1234: "$12.34", 123456789: "$1,234,567.89", -100050: "-$1,000.50"} {
		if got := formatMinor(in); got != want {
			t.Errorf("%d: %q, want %q", in, got, want)
		}
	}
}

func TestLastFourNeverWidens(t *testing.T) {
	for in, want := range map[string]string{"xxxxxxxxxxxx1111": "•••• 1111", "4111111111111111": "•••• 1111", "123": "123"} {
		if got := lastFour(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestSessionsExpireAndStayBounded(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	token, se := s.open(session{role: roleOperator, keyID: "AK1", marketplace: "MP1"}, now)
	if got, ok := s.get(token, now.Add(sessionTTL-time.Second)); !ok || got.keyID != "AK1" || got.csrf != se.csrf {
		t.Fatalf("a live session: %+v %v", got, ok)
	}
	if _, ok := s.get(token, now.Add(sessionTTL)); ok {
		t.Fatal("a session outlived its TTL")
	}
	if s.len() != 0 {
		t.Fatalf("an expired session is still held: %d", s.len())
	}
	first, _ := s.open(session{role: roleOperator, keyID: "AK0", marketplace: "MP1"}, now)
	for i := range maxSessions + 10 {
		s.open(session{role: roleOperator, keyID: "AK", marketplace: "MP1"}, now.Add(time.Duration(i+1)*time.Millisecond))
	}
	if s.len() > maxSessions {
		t.Fatalf("%d sessions held, bound %d", s.len(), maxSessions)
	}
	if _, ok := s.get(first, now.Add(time.Hour)); ok {
		t.Fatal("the session closest to expiry survived a full store")
	}
}

func TestSignInLimitIsPerAddressWindowedAndBounded(t *testing.T) {
	l := newSignInLimit()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for range maxFailedSignIns {
		if !l.allowed("10.0.0.1", now) {
			t.Fatal("refused before the limit")
		}
		l.failed("10.0.0.1", now)
	}
	if l.allowed("10.0.0.1", now.Add(time.Minute)) {
		t.Fatal("allowed past the limit")
	}
	if !l.allowed("10.0.0.2", now) {
		t.Fatal("another address was refused")
	}
	if !l.allowed("10.0.0.1", now.Add(failedSignInWindow)) {
		t.Fatal("still refused after the window")
	}
	for i := range maxTrackedAddresses + 100 {
		l.failed(strconv.Itoa(i), now)
	}
	if len(l.byAddr) > maxTrackedAddresses {
		t.Fatalf("%d addresses tracked, bound %d", len(l.byAddr), maxTrackedAddresses)
	}
	if l.allowed("new", now) {
		t.Fatal("a new address was allowed while the limiter is full of live windows")
	}
	if !l.allowed("new", now.Add(failedSignInWindow)) {
		t.Fatal("a new address was refused after every window passed")
	}
}
