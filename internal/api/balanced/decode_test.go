package balanced

import (
	"strconv"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
)

// A body means one resource or is refused; it is never read as no fields.
func TestDecodeBodyRefusesWhatIsNotOneObject(t *testing.T) {
	const form, js = "application/x-www-form-urlencoded", "application/json"
	for _, tc := range []struct {
		contentType, body string
		ok                bool
	}{
		{js, `{"amount": 1}`, true},
		{js, `{"debits": [{"amount": 1}]}`, true},
		{js, `  null `, true},
		{js, ``, true},
		{form, `amount=1&source[number]=4111&meta[a.b]=c`, true},
		{"", `amount=1`, true},
		{js, `"oops"`, false},
		{form, `"oops"`, false},
		{js, `12`, false},
		{js, `true`, false},
		{js, `{"a":1}{"b":2}`, false},
		{js, `{"a":1} x`, false},
		{js, `{"debits": [{"amount": 1}, {"amount": 2}]}`, false},
		{js, `{"debits": ["x"]}`, false},
		{js, `{"debits": 5}`, false},
		{js, `{"name": "a\u0000b"}`, false},
		{js, `{"meta": {"k\u0000": "v"}}`, false},
		{form, `name=a%00b`, false},
		{form, `name=%ff`, false},
		{form, `na"me=1`, false},
		{form, `a[b=1`, false},
		{form, `a[]x=1`, false},
		{form, `a=1&a[b]=2`, false},
		{form, `a=1&a[]=2`, false},
		{form, `a[]=1&a[b]=2`, false},
		{form, `a[]=1&a[]=2`, true},
	} {
		_, _, err := decodeBody(tc.contentType, []byte(tc.body), "debits")
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: error %v, want ok=%v", tc.contentType, tc.body, err, tc.ok)
		}
		if err != nil && apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%q: %v is not a request error", tc.body, err)
		}
	}
}

// A reference is an id or an href of the right type; anything else given
// is refused, naming the field.
func TestReferencesOfTheWrongKindAreRefused(t *testing.T) {
	const order = "OR0000000000000000000001"
	for _, tc := range []struct {
		value any
		want  string
		ok    bool
	}{
		{nil, "", true},
		{order, order, true},
		{"/orders/" + order, order, true},
		{"/v1/marketplaces/TEST-MP1/orders/" + order, order, true},
		{"/resources/" + order, order, true},
		{map[string]any{"id": order}, order, true},
		{map[string]any{"href": "/orders/" + order}, order, true},
		{"", "", false},
		{"   ", "", false},
		{"OR", "", false},
		{"CU0000000000000000000001", "", false},
		{"/cards/" + order, "", false},
		{"/orders/", "", false},
		{order + "\x00", "", false},
		{"OR../x", "", false},
		{12345, "", false},
		{true, "", false},
		{[]any{}, "", false},
		{map[string]any{}, "", false},
		{map[string]any{"id": 7}, "", false},
	} {
		f := fields{"order": tc.value}
		if n, ok := tc.value.(int); ok {
			f["order"] = jsonNumber(n)
		}
		got, err := f.reference("order", "orders")
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("order %#v: %q, %v; want %q ok=%v", tc.value, got, err, tc.want, tc.ok)
		}
		if err != nil && !containsField(err, "order") {
			t.Errorf("order %#v: the error %q does not name the field", tc.value, apperr.MessageOf(err))
		}
	}
}

func TestCurrencyIsUSDOrAbsent(t *testing.T) {
	for _, tc := range []struct {
		value any
		ok    bool
	}{{"USD", true}, {nil, true}, {"EUR", false}, {"BTC", false}, {"", false}, {"usd", false}, {jsonNumber(840), false}} {
		if err := (fields{"currency": tc.value}).currency(); (err == nil) != tc.ok {
			t.Errorf("currency %#v: %v", tc.value, err)
		}
	}
	if err := (fields{}).currency(); err != nil {
		t.Errorf("no currency: %v", err)
	}
}

func jsonNumber(n int) any {
	f, _, _ := decodeBody("application/json", []byte(`{"n":`+strconv.Itoa(n)+`}`), "")
	return f["n"]
}

func containsField(err error, field string) bool {
	return strings.HasPrefix(apperr.MessageOf(err), field)
}
