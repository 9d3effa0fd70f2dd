package balances

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
)

// MaxImportLines bounds one transactions file: a busy operator's day of
// card traffic, recorded in one database transaction.
const MaxImportLines = 200_000

// TransactionColumns are the columns of a transactions file, named on its
// first line in any order. Those marked required must be there; the others
// may be left out or blank.
var TransactionColumns = []struct {
	Name     string
	Required bool
}{
	{"external_id", true}, {"type", true}, {"amount", true}, {"currency", true}, {"merchant", true},
	{"gate", true}, {"occurred_at", true}, {"endpoint", false}, {"processor", false}, {"card_mapping", false},
}

// TransactionLine is one transaction as the operator sends it: a parsed
// line of a transactions file, or one of a list sent to the API.
type TransactionLine struct {
	// Line numbers the transaction in its file or list, for errors.
	Line int
	// ExternalID is the operator's ID of the transaction.
	ExternalID string
	// Type is one of the seed's 23 (TransactionTypes).
	Type string
	// AmountMinor is in minor units of Currency, never negative: the
	// rule of the type says whether it adds or deducts.
	AmountMinor int64
	Currency    string
	// Merchant is the merchant's external ID or its Poise ID.
	Merchant string
	// Endpoint is one of the merchant's endpoints in Currency; empty for
	// its default endpoint of that currency.
	Endpoint string
	// Gate is a built-in or configured gate; Processor, when given, must
	// be the gate's; CardMapping names the card mapping a card-mapping
	// type (or a sale on a mapped card) concerns.
	Gate, Processor, CardMapping string
	OccurredAt                   time.Time
}

// TransactionsError refuses a whole set of transactions and lists every
// bad line; nothing of the set was recorded.
type TransactionsError struct{ Lines []LineError }

func (e *TransactionsError) Error() string {
	return fmt.Sprintf("%d bad transactions, the first on line %d: %s", len(e.Lines), e.Lines[0].Line, e.Lines[0].Message)
}

// Unwrap makes the refusal an invalid-input error that names the first
// bad line.
func (e *TransactionsError) Unwrap() error {
	return apperr.New(apperr.Invalid, "nothing was recorded: %d bad transactions, the first on line %d: %s", len(e.Lines), e.Lines[0].Line, e.Lines[0].Message)
}

// maxLineErrors bounds the bad lines one refusal lists.
const maxLineErrors = 100

// ParseTransactions reads a transactions file: tab-separated when its
// first line holds a tab, else comma-separated (CSV quoting), with the
// column names on its first line (TransactionColumns). Amounts are decimal
// in the line's currency ("12.34" USD, "1200" JPY, "1.234" KWD); times are
// RFC 3339. Line numbers count the header as line 1.
func ParseTransactions(text string) ([]TransactionLine, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	first, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	if strings.Contains(first, "\t") {
		r.Comma, r.LazyQuotes = '\t', true
	}
	header, err := r.Read()
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "the transactions file has no header line")
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; dup {
			return nil, apperr.New(apperr.Invalid, "line 1: the column %q is named twice", h)
		}
		col[h] = i
	}
	known := map[string]bool{}
	for _, c := range TransactionColumns {
		known[c.Name] = true
		if _, ok := col[c.Name]; c.Required && !ok {
			return nil, apperr.New(apperr.Invalid, "line 1: the header names no column %q (it needs %s)", c.Name, requiredColumns())
		}
	}
	for h := range col {
		if !known[h] {
			return nil, apperr.New(apperr.Invalid, "line 1: %q is not a column of a transactions file", h)
		}
	}
	var lines []TransactionLine
	var bad []LineError
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// The reader cannot resynchronise after a broken quote: the
			// file is refused at its first unreadable line.
			n := 0
			if pe, ok := err.(*csv.ParseError); ok {
				n = pe.StartLine
			}
			bad = append(bad, LineError{n, "the line cannot be read: " + err.Error()})
			break
		}
		n, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(lines)+len(bad) >= MaxImportLines {
			return nil, apperr.New(apperr.Invalid, "a transactions file may have at most %d lines", MaxImportLines)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l, msg := parseTransactionLine(get)
		if msg != "" {
			if len(bad) < maxLineErrors {
				bad = append(bad, LineError{n, msg})
			}
			continue
		}
		l.Line = n
		lines = append(lines, l)
	}
	if len(bad) > 0 {
		return nil, &TransactionsError{Lines: bad}
	}
	if len(lines) == 0 {
		return nil, apperr.New(apperr.Invalid, "the transactions file has no lines")
	}
	return lines, nil
}

func requiredColumns() string {
	var names []string
	for _, c := range TransactionColumns {
		if c.Required {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// parseTransactionLine reads one line's fields; msg says what is wrong.
func parseTransactionLine(get func(string) string) (l TransactionLine, msg string) {
	l = TransactionLine{ExternalID: get("external_id"), Merchant: get("merchant"), Gate: get("gate"), Endpoint: get("endpoint"),
		Processor: get("processor"), CardMapping: get("card_mapping")}
	typ, ok := CanonicalType(get("type"))
	if !ok {
		return l, fmt.Sprintf("%q is not a transaction type of the balance rules table", get("type"))
	}
	l.Type = typ
	cur, err := money.LookupCurrency(get("currency"))
	if err != nil {
		return l, apperr.MessageOf(err)
	}
	l.Currency = cur.Code
	a, err := money.ParseDecimal(get("amount"), cur)
	if err != nil {
		return l, fmt.Sprintf("amount %q is not a decimal amount of %s (%d decimals)", get("amount"), cur.Code, cur.Exponent)
	}
	if a.Minor < 0 {
		return l, "amounts are written without a sign: the type's rule adds or deducts"
	}
	l.AmountMinor = a.Minor
	if l.OccurredAt, err = time.Parse(time.RFC3339Nano, get("occurred_at")); err != nil {
		return l, fmt.Sprintf("occurred_at %q is not an RFC 3339 time", get("occurred_at"))
	}
	return l, ""
}
