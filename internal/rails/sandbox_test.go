package rails_test

import (
	"testing"

	"github.com/poise-payments/poise/internal/rails"
)

func TestCards(t *testing.T) {
	cases := []struct {
		number, brand, typ, outcome string
		creditable                  bool
	}{
		{"4111111111111111", "Visa", "credit", "succeeded", false},
		{"5105105105105100", "MasterCard", "credit", "succeeded", false},
		{"378282246310005", "American Express", "credit", "succeeded", false},
		{"6011111111111117", "Discover", "credit", "succeeded", false},
		{"4342561111111118", "Visa", "debit", "succeeded", true},
		{"4444444444444448", "Visa", "credit", "declined", false},
		{"6500000000000002", "Discover", "debit", "dispute", false},
	}
	for _, c := range cases {
		if !rails.LuhnValid(c.number) {
			t.Errorf("%s fails Luhn", c.number)
		}
		f := rails.Card(c.number)
		if f.Brand != c.brand || f.Type != c.typ || f.Outcome != c.outcome || f.Creditable != c.creditable {
			t.Errorf("%s = %+v", c.number, f)
		}
	}
	if rails.LuhnValid("4111111111111112") {
		t.Error("4111111111111112 passes Luhn")
	}
	if got := rails.CleanCardNumber("3782 822463 10005 "); got != "378282246310005" {
		t.Errorf("clean = %q", got)
	}
	if rails.Card("4210101111111112").PushOutcome != "pending" {
		t.Error("4210101111111112 should leave push-to-card credits pending")
	}
}

func TestVerification(t *testing.T) {
	v := rails.Verify("4111111111111111", "123", "965 Mission St", "94103")
	if v.CVVMatch != "yes" || v.AVSStreet != "yes" || v.AVSPostal != "yes" {
		t.Errorf("matching card = %+v", v)
	}
	v = rails.Verify("4111111111111111", "", "21 Jump St", "90210")
	if v.CVVMatch != nil || v.AVSStreet != "no" || v.AVSPostal != "no" {
		t.Errorf("non-matching card = %+v", v)
	}
	if v := rails.Verify("5112000200000002", "200", "", ""); v.CVVMatch != "no" || v.AVSPostal != nil {
		t.Errorf("cvv no = %+v", v)
	}
}

func TestBanks(t *testing.T) {
	for _, r := range []string{"021000021", "321174851", "121000358", "322271627"} {
		if !rails.RoutingValid(r) {
			t.Errorf("%s should be valid", r)
		}
	}
	for _, r := range []string{"100000007", "111111118", "123456789", "02100002"} {
		if rails.RoutingValid(r) {
			t.Errorf("%s should be invalid", r)
		}
	}
	for acct, want := range map[string]string{
		"9900000000": "pending", "9900000001": "pending", "9900000002": "succeeded", "9900000003": "succeeded",
		"9900000004": "failed", "9900000005": "failed", "9900000006": "returned", "9900000007": "returned",
		"9900000095": "succeeded", "200938202": "pending", "9900000010": "succeeded", "8900000002": "pending", "99000000021": "pending",
	} {
		if got := rails.BankOutcome(acct); got != want {
			t.Errorf("%s = %s, want %s", acct, got, want)
		}
	}
}
