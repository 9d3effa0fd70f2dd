package store

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
)

type label string

// encodeBody writes exactly what encoding/json writes for a body, for the
// values bodies hold and for any other.
func TestEncodeBodyIsEncodingJSONs(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123, time.UTC)
	bodies := []payments.Resource{
		{},
		{Fields: map[string]any{}, Links: map[string]string{}, Private: map[string]any{}},
		{Fields: map[string]any{
			"amount": int64(300), "count": 7, "small": int32(-2), "big": uint64(1 << 63), "ratio": 1.5, "whole": 300.0, "huge": 1e21,
			"number": json.Number("12.50"), "numbers": []any{json.Number("0"), json.Number("-0.5e+10"), json.Number("7E-2"), json.Number("")}, "at": at, "none": nil, "yes": true, "no": false, "kind": label("debit"),
			"description": `<b>"Tom" & 'Jerry'</b>\ back`, "unicode": "café ✓ \u2028 \u2029", "control": "a\tb\nc\x00", "bad": "\xff\xfe",
			"meta":    map[string]any{"z": "last", "a": map[string]any{"nested": []any{1, "two", nil, map[string]string{"k": "v"}}}},
			"address": map[string]any{"line1": nil, "city": "Nowhere"},
			"list":    []any{}, "nils": []any(nil), "strings": []string{"a", "<b>"}, "raw": json.RawMessage(`{"b": 1, "a" : [1, 2]}`),
			"empty_map": map[string]any(nil), "string_map": map[string]string(nil),
		}, Links: map[string]string{"order": "OR1", "source": "", "<odd>": "&"}, Private: map[string]any{"funds_aging_day": "2026-11-30"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		bodies = append(bodies, payments.Resource{Fields: randomMap(rng, 3), Links: map[string]string{randomString(rng): randomString(rng)}, Private: randomMap(rng, 1)})
	}
	for i, r := range bodies {
		want, err := json.Marshal(resourceBody{Fields: r.Fields, Links: r.Links, Private: r.Private})
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeBody(r)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if got != string(want) {
			t.Fatalf("body %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A value encoding/json refuses is refused.
	for _, bad := range []any{func() {}, json.Number("12a"), json.Number("01"), json.Number("1."), json.Number("+1"), json.Number("1e")} {
		if _, err := encodeBody(payments.Resource{Fields: map[string]any{"f": bad}}); err == nil {
			t.Errorf("%#v encoded", bad)
		}
	}
}

func randomMap(rng *rand.Rand, depth int) map[string]any {
	m := make(map[string]any)
	for range rng.IntN(6) {
		var v any
		switch rng.IntN(7) {
		case 0:
			v = randomString(rng)
		case 1:
			v = rng.Int64() - rng.Int64()
		case 2:
			v = rng.IntN(2) == 0
		case 3:
			v = nil
		case 4:
			v = rng.Float64() * 1e6
		case 5:
			if depth > 0 {
				v = randomMap(rng, depth-1)
			}
		case 6:
			v = []any{randomString(rng), rng.IntN(100)}
		}
		m[randomString(rng)] = v
	}
	return m
}

func randomString(rng *rand.Rand) string {
	const chars = "abcXYZ019 _-<>&\"\\\t\n\x01é✓\u2028"
	r := []rune(chars)
	s := make([]rune, rng.IntN(8))
	for i := range s {
		s[i] = r[rng.IntN(len(r))]
	}
	return string(s)
}
