// Package rails is what stands for the outside world's payment networks.
// The sandbox here answers as Balanced's test mode did, keyed on the test
// card and bank account numbers its documentation and specification use;
// a real card gateway or ACH originator would answer the same questions.
package rails

import (
	"strings"
)

// Outcomes an instrument is set to when used (payments.Outcome*).
const (
	succeeded = "succeeded"
	pending   = "pending"
	failed    = "failed"
	declined  = "declined"
	invalid   = "invalid"
	dispute   = "dispute"
	// disputeWon: the card's debits are disputed, and the merchant wins.
	disputeWon = "dispute_won"
)

// CardFacts is what the card network and the issuer directory say of a
// card number.
type CardFacts struct {
	Brand    string // Visa, MasterCard, American Express, Discover, or ""
	Type     string // debit or credit
	Category string // prepaid or other
	BankName string
	// Outcome is what debits and holds on the card do.
	Outcome string
	// PushOutcome is what a credit to the card does, when it may receive one.
	PushOutcome string
	// Debit cards may receive credits (push to card).
	Creditable bool
}

// testCards are the numbers with behaviour of their own.
var testCards = map[string]CardFacts{
	"4111111111111111": {Type: "credit", BankName: "JPMORGAN CHASE BANK, N.A."},
	"4342561111111118": {Type: "debit", BankName: "WELLS FARGO BANK, N.A.", Creditable: true},
	"4210101111111112": {Type: "debit", Creditable: true, PushOutcome: pending},
	"4444444444444448": {Type: "credit", Outcome: declined},
	"4222222222222220": {Type: "credit", Outcome: invalid},
	"5112000200000002": {Type: "debit"},
	// Every debit is disputed; the dispute is lost when its response time
	// ends (Balanced's test card) ...
	"6500000000000002": {Type: "debit", Outcome: dispute},
	// ... or won, on Poise's own test card.
	"6500000000000010": {Type: "debit", Outcome: disputeWon},
}

// CleanCardNumber strips the spaces and dashes people type into numbers.
func CleanCardNumber(n string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, n)
}

// LuhnValid reports whether a number of 12 to 19 digits passes the Luhn check.
func LuhnValid(n string) bool {
	if len(n) < 12 || len(n) > 19 {
		return false
	}
	sum, double := 0, false
	for i := len(n) - 1; i >= 0; i-- {
		c := n[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// Brand reads the card brand from the number's issuer prefix.
func Brand(n string) string {
	switch {
	case strings.HasPrefix(n, "4"):
		return "Visa"
	case len(n) >= 2 && n[0] == '5' && n[1] >= '1' && n[1] <= '5':
		return "MasterCard"
	case strings.HasPrefix(n, "34"), strings.HasPrefix(n, "37"):
		return "American Express"
	case strings.HasPrefix(n, "6011"), strings.HasPrefix(n, "65"):
		return "Discover"
	}
	return ""
}

// Card returns the facts of a clean, Luhn-valid card number. Numbers
// without behaviour of their own are ordinary credit cards that succeed.
func Card(number string) CardFacts {
	f, ok := testCards[number]
	if !ok {
		f = CardFacts{Type: "credit"}
	}
	f.Brand = Brand(number)
	if f.Category == "" {
		f.Category = "other"
	}
	if f.Outcome == "" {
		f.Outcome = succeeded
	}
	if f.PushOutcome == "" {
		f.PushOutcome = succeeded
	}
	// The spec asks only that bank_name be a string; unknown issuers get "".
	return f
}

// Verification is what the card network says of a card's CVV and address.
type Verification struct {
	CVVMatch, CVVResult             any // "yes" | "no" | "unsupported", or nil
	AVSStreet, AVSPostal, AVSResult any
}

// Verify answers the CVV and AVS checks the test card network makes.
func Verify(number, cvv, line1, postalCode string) Verification {
	var v Verification
	if cvv != "" {
		switch {
		case number == "5112000200000002":
			v.CVVMatch, v.CVVResult = "no", "No Match"
		case number == "4457000300000007":
			v.CVVMatch, v.CVVResult = "unsupported", "Card does not support verification"
		default:
			v.CVVMatch, v.CVVResult = "yes", "Match"
		}
	}
	if postalCode == "" {
		return v
	}
	switch postalCode {
	case "94301", "94103":
		v.AVSPostal = "yes"
	case "90210":
		v.AVSPostal = "no"
	case "90211":
		v.AVSPostal = "unsupported"
	default:
		v.AVSPostal = "yes"
	}
	switch {
	case strings.EqualFold(line1, "965 Mission St") && postalCode == "94103":
		v.AVSStreet = "yes"
	case strings.EqualFold(line1, "21 Jump St") && postalCode == "90210":
		v.AVSStreet = "no"
	default:
		v.AVSStreet = "unsupported"
	}
	// The texts are the processor's, from the fixed list the API allows;
	// the test network answered a full match with the postal-code-only
	// text, and clients compare against it.
	switch v.AVSPostal {
	case "yes":
		v.AVSResult = "Postal code matches, but street address not verified."
	case "no":
		v.AVSResult = "Street address and postal code do not match."
	default:
		v.AVSResult = "Address not verified."
	}
	return v
}

// bankNames is the test bank directory: routing number → bank.
var bankNames = map[string]string{
	"021000021": "JPMORGAN CHASE BANK",
	"321174851": "SAN MATEO CREDIT UNION",
	"121000358": "BANK OF AMERICA, N.A.",
	"322271627": "J.P. MORGAN CHASE BANK, N.A.",
	"121042882": "WELLS FARGO BANK, N.A.",
}

// unknownRoutingNumbers pass the ABA checksum but are in no bank directory.
var unknownRoutingNumbers = map[string]bool{"100000007": true, "111111118": true}

// RoutingValid reports whether a routing number is nine digits, passes the
// ABA checksum and names a bank.
func RoutingValid(routing string) bool {
	if len(routing) != 9 || unknownRoutingNumbers[routing] {
		return false
	}
	weights := [9]int{3, 7, 1, 3, 7, 1, 3, 7, 1}
	sum := 0
	for i := 0; i < 9; i++ {
		c := routing[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i]
	}
	return sum%10 == 0
}

// BankName looks a routing number up in the test directory.
func BankName(routing string) string { return bankNames[routing] }

// returned is the outcome of a test account whose bank takes a transaction,
// lets it succeed, and sends it back later: an ACH return.
const returned = "returned"

// testAccountPrefix opens the sandbox's test account numbers, 99000000NN.
const testAccountPrefix = "99000000"

// BankOutcome is what ACH transactions with an account do in a test
// marketplace. The sandbox's test accounts, 99000000NN, choose, as
// Balanced's documentation's table does:
//
//	00, 01  pending: the ACH life cycle, settling on its business day
//	04, 05  failed: the bank refuses the entry at submission
//	06, 07  returned: pending, succeeds on its business day, and the bank
//	        returns it later (a late failure, through the returns path)
//	others  succeeded at once (02 and 03 in the table; Balanced's own
//	        specification relies on them, and on 95, succeeding at once)
//
// Every other account number is an ordinary bank account: pending, and
// settled on its business day like real bank money.
func BankOutcome(accountNumber string) string {
	if len(accountNumber) != 10 || !strings.HasPrefix(accountNumber, testAccountPrefix) {
		return pending
	}
	switch accountNumber[8:] {
	case "00", "01":
		return pending
	case "04", "05":
		return failed
	case "06", "07":
		return returned
	}
	return succeeded
}
