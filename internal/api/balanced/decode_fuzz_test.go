package balanced

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
)

// Whatever bytes arrive, the body decoder answers fields or a request
// error, never panics, and what it accepts is stable: the fields, written
// back as JSON, decode to the same fields, and hold no NUL.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []struct {
		form bool
		body string
	}{
		{false, `{"amount": 100, "order": "/orders/OR1", "meta": {"a.b": "c"}}`},
		{false, `{"debits": [{"amount": "50", "source": {"number": 4111111111111111}}]}`},
		{false, `[{"op": "replace", "path": "/cards/0/meta/x", "value": "y"}]`},
		{false, `{"a":1}{"b":2}`},
		{false, `"oops"`},
		{true, `amount=10000000&source[number]=4111111111111111&source[expiration_month]=12`},
		{true, `meta[create]=x&tags[]=a&tags[]=b`},
		{true, `a=1&a[b]=2`},
		{true, `name=%00`},
	} {
		f.Add(seed.form, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		got, patch, err := decodeBody(ct, body, "debits")
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("%q: %v is not a request error", body, err)
			}
			return
		}
		if patch != nil {
			if got != nil {
				t.Fatalf("%q: both a patch and fields", body)
			}
			return
		}
		if got == nil {
			t.Fatalf("%q: no fields and no error", body)
		}
		if err := checkStrings(map[string]any(got), ""); err != nil {
			t.Fatalf("%q: accepted fields hold a NUL: %v", body, err)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("%q: accepted fields do not encode: %v", body, err)
		}
		round, _, err := decodeBody("application/json", again, "")
		if err != nil {
			t.Fatalf("%q: fields written back as %s are refused: %v", body, again, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(round)) {
			t.Fatalf("%q: decoded %#v, then %#v", body, got, round)
		}
	})
}

// normalize turns decoded values into what JSON gives back, so that a form's
// strings and a JSON decoding compare.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// A reference that is accepted names a well-formed id of an allowed type,
// taken from the end of what was sent.
func FuzzReference(f *testing.F) {
	for _, s := range []string{"OR0000000000000000000001", "/orders/OR1", "/v1/marketplaces/TEST-MP1/orders/OR1",
		"/cards/OR1", "/resources/CC1", "", "/", "OR\x00", "/holds/HL1", " CC1 ", "CC1/"} {
		f.Add(s)
	}
	kinds := []string{"orders", "cards", "card_holds"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseReference("ref", s, kinds)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid || !strings.HasPrefix(apperr.MessageOf(err), "ref") {
				t.Fatalf("%q: %v is not a request error naming the field", s, err)
			}
			return
		}
		if !id.Valid(got) || !slices.Contains(kinds, kindOf(got)) {
			t.Fatalf("%q: accepted %q, which is no id of %v", s, got, kinds)
		}
		if !strings.HasSuffix(strings.TrimSpace(s), got) {
			t.Fatalf("%q: accepted %q, which it does not end with", s, got)
		}
	})
}

// JSON Patch never panics whatever the operations, refuses with a request
// error or a failed test (409), and leaves a document that is still JSON.
func FuzzJSONPatch(f *testing.F) {
	for _, s := range []string{
		`[{"op":"add","path":"/cards/0/meta/asdf","value":"jkl"}]`,
		`[{"op":"test","path":"/cards/0/meta/x","value":"y"},{"op":"replace","path":"/cards/0/meta/x","value":"z"}]`,
		`[{"op":"move","from":"/cards/0/meta/x","path":"/cards/0/meta/y"}]`,
		`[{"op":"copy","from":"/cards/0","path":"/cards/0/links/self"}]`,
		`[{"op":"remove","path":"/cards/0/links/customer"}]`,
		`[{"op":"replace","path":"/cards/0/links/customer","value":"CU1"}]`,
		`[{"op":"add","path":"/cards/-","value":{}}]`,
		`[{"op":"remove","path":"/cards/0"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decodeJSON(body)
		if err != nil {
			return
		}
		ops, ok := v.([]any)
		if !ok {
			return
		}
		doc := map[string]any{"cards": []any{map[string]any{
			"id": "CC1", "meta": map[string]any{"x": "y"}, "links": map[string]any{"customer": nil},
			"address": map[string]any{"line1": nil}, "expiration_month": json.Number("12"),
		}}}
		err = applyPatch(doc, ops)
		if err != nil {
			if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Conflict {
				t.Fatalf("%s: %v is neither a request error nor a failed test", body, err)
			}
			return
		}
		if _, err := json.Marshal(doc); err != nil {
			t.Fatalf("%s: the patched document is no longer JSON: %v", body, err)
		}
	})
}
