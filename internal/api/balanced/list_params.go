package balanced

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// Limits of one list request's filters and sort. Balanced's clients build a
// handful of each; these bounds keep one request's query small for the
// database whatever a caller sends.
const (
	// maxFilters bounds the conditions of one list.
	maxFilters = 16
	// maxFilterValues bounds the values of one [in] or [!in] filter.
	maxFilterValues = 100
	// maxSortKeys bounds the sort= parameters of one list.
	maxSortKeys = 4
	// maxFilterValueBytes bounds one value: longer than any field a
	// resource holds.
	maxFilterValueBytes = 1024
	// maxMetaKeyBytes bounds the key of a meta.* filter.
	maxMetaKeyBytes = 255
)

// Parameters of a list that are not filters.
const (
	paramLimit  = "limit"
	paramOffset = "offset"
	paramSort   = "sort"
)

// fieldKind is what a filterable field of a type holds.
type fieldKind int

const (
	textField fieldKind = iota
	numberField
	boolField
	// timeField is a resource's own time (created_at, updated_at).
	timeField
)

// filterable are the fields each collection filters and sorts on, beyond
// created_at, updated_at and meta.* (listParams adds those). Names are the
// fields as the API shows them; a field shown under another name is mapped
// where the catalogue is built.
var filterable = map[string]map[string]fieldKind{
	"debits":      transactionFields(),
	"credits":     transactionFields(),
	"refunds":     transactionFields(),
	"reversals":   transactionFields(),
	"settlements": transactionFields(),
	"card_holds": {"amount": numberField, "currency": textField, "status": textField, "transaction_number": textField,
		"description": textField, "failure_reason_code": textField},
	"disputes": {"amount": numberField, "currency": textField, "status": textField, "reason": textField},
	"customers": {"email": textField, "name": textField, "business_name": textField, "phone": textField,
		"merchant_status": textField, "dob_month": numberField, "dob_year": numberField},
	"cards": {"fingerprint": textField, "hash": textField, "brand": textField, "name": textField, "type": textField,
		"category": textField, "bank_name": textField, "expiration_month": numberField, "expiration_year": numberField,
		"can_debit": boolField, "can_credit": boolField, "is_verified": boolField},
	"bank_accounts": {"fingerprint": textField, "name": textField, "bank_name": textField, "account_type": textField,
		"routing_number": textField, "can_debit": boolField, "can_credit": boolField},
	"external_accounts":          {"provider": textField, "can_debit": boolField, "can_credit": boolField},
	"bank_account_verifications": {"verification_status": textField, "deposit_status": textField, "attempts": numberField, "attempts_remaining": numberField},
	"orders":                     {"amount": numberField, "currency": textField, "description": textField},
	"accounts":                   {"type": textField, "currency": textField, "can_debit": boolField, "can_credit": boolField},
	"events":                     {"type": textField},
	"callbacks":                  {"url": textField, "method": textField, "revision": textField},
	"marketplaces":               {"name": textField, "domain_url": textField, "support_email_address": textField, "production": boolField},
	"merchants":                  {"login": textField, "external_merchant_id": textField, "enabled": boolField},
	"managers":                   {"login": textField},
	"adjustments": {"amount": numberField, "currency": textField, "external_source": textField, "external_id": textField,
		"balance_name": textField},
}

func transactionFields() map[string]fieldKind {
	return map[string]fieldKind{"amount": numberField, "currency": textField, "status": textField,
		"transaction_number": textField, "description": textField, "failure_reason_code": textField}
}

// storedAs maps the fields shown under another name: Balanced's filters
// call a card's fingerprint its hash.
var storedAs = map[string]string{"hash": "fingerprint"}

// withoutMeta are the collections whose resources have no meta.
var withoutMeta = map[string]bool{"events": true, "callbacks": true}

// ownTimes maps the time fields of a collection to the resource's own
// times: collections have created_at and updated_at, and an event's
// occurred_at is when it was created.
func ownTimes(typ string) map[string]string {
	switch typ {
	case "events":
		return map[string]string{"occurred_at": payments.OwnCreatedAt}
	case "api_keys":
		// A key never changes but for its deletion.
		return map[string]string{"created_at": payments.OwnCreatedAt}
	}
	return map[string]string{"created_at": payments.OwnCreatedAt, "updated_at": payments.OwnUpdatedAt}
}

// opsOf are the operators each kind of field takes.
var opsOf = map[fieldKind][]payments.FilterOp{
	textField: {payments.OpEq, payments.OpNe, payments.OpIn, payments.OpNotIn,
		payments.OpContains, payments.OpStartsWith, payments.OpEndsWith},
	numberField: {payments.OpEq, payments.OpNe, payments.OpLt, payments.OpLe, payments.OpGt, payments.OpGe,
		payments.OpIn, payments.OpNotIn},
	timeField: {payments.OpEq, payments.OpNe, payments.OpLt, payments.OpLe, payments.OpGt, payments.OpGe,
		payments.OpIn, payments.OpNotIn},
	boolField: {payments.OpEq, payments.OpNe},
}

// listParams are a list request's filters and sort, read from its query.
type listParams struct {
	filters []payments.Filter
	order   []payments.OrderKey
	// echo is the filters and sort as the paging hrefs carry them.
	echo string
}

// parseListParams reads Balanced's list filters for a collection of typ:
// field=value, field[op]=value (op one of <, <=, >, >=, !=, in, !in,
// contains, startswith, endswith; in takes a comma-separated list),
// meta.key=value, and sort=field,asc|desc. A parameter it does not know,
// an operator a field does not take, or a value of the wrong kind is a 400
// naming the parameter: a filter silently ignored would answer a list the
// caller did not ask for.
func parseListParams(rawQuery, typ string) (listParams, error) {
	var p listParams
	values, err := url.ParseQuery(operatorsEscaped.Replace(rawQuery))
	if err != nil {
		return p, apperr.WithReason(apperr.Invalid, "request", "the query string is malformed: %v", err)
	}
	echo := url.Values{}
	// In a fixed order, so that the same query always gives the same
	// error and the same SQL.
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vals := values[name]
		switch name {
		case paramLimit, paramOffset:
			continue
		case paramSort:
			for _, v := range vals {
				if len(p.order) == maxSortKeys {
					return p, fieldError(paramSort, "at most %d sort keys", maxSortKeys)
				}
				k, err := parseSort(typ, v)
				if err != nil {
					return p, err
				}
				p.order = append(p.order, k)
			}
			echo[name] = vals
			continue
		}
		field, op := name, payments.OpEq
		if strings.HasSuffix(name, "]") {
			i := strings.LastIndexByte(name, '[')
			if i <= 0 {
				return p, fieldError(name, "is not a filter of %s", typ)
			}
			field, op = name[:i], payments.FilterOp(name[i+1:len(name)-1])
			if op == payments.OpEq {
				return p, fieldError(name, "write %s=value for equality", field)
			}
		}
		attr, kind, err := attributeOf(typ, field, name)
		if err != nil {
			return p, err
		}
		if !knownOp(kind, op) {
			return p, fieldError(name, "%s does not take the operator %q; it takes %s", field, op, opNames(kind))
		}
		for _, v := range vals {
			if len(p.filters) == maxFilters {
				return p, fieldError(name, "at most %d filters", maxFilters)
			}
			f := payments.Filter{Attr: attr, Op: op}
			parts := []string{v}
			if op == payments.OpIn || op == payments.OpNotIn {
				parts = strings.Split(v, ",")
				if len(parts) > maxFilterValues {
					return p, fieldError(name, "at most %d values", maxFilterValues)
				}
			}
			for _, part := range parts {
				val, err := parseFilterValue(kind, part)
				if err != nil {
					return p, fieldError(name, "%v", err)
				}
				f.Values = append(f.Values, val)
			}
			p.filters = append(p.filters, f)
		}
		echo[name] = vals
	}
	p.echo = echo.Encode()
	return p, nil
}

// operatorsEscaped percent-encodes the operators that hold an "=", so that
// amount[>=]=100 typed as is reads as the filter it means rather than as
// "amount[>" equal to "]=100". Values decode to the same text either way.
var operatorsEscaped = strings.NewReplacer("[<=]", "[%3C%3D]", "[>=]", "[%3E%3D]", "[!=]", "[%21%3D]", "[=]", "[%3D]")

// attributeOf resolves a field name of a collection to what the store
// compares. param is the whole parameter, for errors.
func attributeOf(typ, field, param string) (payments.Attribute, fieldKind, error) {
	if own, ok := ownTimes(typ)[field]; ok {
		return payments.Attribute{Own: own, Kind: payments.KindTime}, timeField, nil
	}
	if key, ok := strings.CutPrefix(field, "meta."); ok && !withoutMeta[typ] {
		if err := checkMetaKey(key); err != nil {
			return payments.Attribute{}, 0, fieldError(param, "%v", err)
		}
		return payments.Attribute{Field: []string{"meta", key}, Kind: payments.KindText}, textField, nil
	}
	kind, ok := filterable[typ][field]
	if !ok {
		return payments.Attribute{}, 0, fieldError(param, "%s cannot be filtered or sorted on %s; it takes %s", typ, field, fieldNames(typ))
	}
	name := field
	if s, ok := storedAs[field]; ok {
		name = s
	}
	return payments.Attribute{Field: []string{name}, Kind: storeKind(kind)}, kind, nil
}

func storeKind(k fieldKind) payments.ValueKind {
	switch k {
	case numberField:
		return payments.KindNumber
	case boolField:
		return payments.KindBool
	case timeField:
		return payments.KindTime
	}
	return payments.KindText
}

// checkMetaKey refuses keys no store can look up: the embedded database's
// JSON paths cannot escape a double quote or a backslash.
func checkMetaKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("the meta key is empty")
	case len(key) > maxMetaKeyBytes:
		return fmt.Errorf("the meta key is longer than %d bytes", maxMetaKeyBytes)
	case !utf8.ValidString(key) || strings.ContainsAny(key, "\"\\\x00"):
		return fmt.Errorf("meta keys with a double quote, a backslash or a NUL cannot be filtered on")
	}
	return nil
}

func knownOp(k fieldKind, op payments.FilterOp) bool {
	for _, o := range opsOf[k] {
		if o == op {
			return true
		}
	}
	return false
}

func opNames(k fieldKind) string {
	names := make([]string, 0, len(opsOf[k]))
	for _, o := range opsOf[k] {
		names = append(names, "["+string(o)+"]")
	}
	return strings.Join(names, " ")
}

// fieldNames lists what a collection filters on, for error messages.
func fieldNames(typ string) string {
	var names []string
	for f := range ownTimes(typ) {
		names = append(names, f)
	}
	for f := range filterable[typ] {
		names = append(names, f)
	}
	slices.Sort(names)
	if !withoutMeta[typ] {
		names = append(names, "meta.<key>")
	}
	return strings.Join(names, ", ")
}

// parseFilterValue reads one value of a filter.
func parseFilterValue(k fieldKind, s string) (any, error) {
	if len(s) > maxFilterValueBytes {
		return nil, fmt.Errorf("a value is longer than %d bytes", maxFilterValueBytes)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return nil, fmt.Errorf("a value is not valid UTF-8 text")
	}
	switch k {
	case numberField:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	case boolField:
		switch s {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	case timeField:
		t, err := parseFilterTime(s)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	return s, nil
}

// filterTimeLayouts are the times a filter accepts: RFC 3339 as the API
// shows them, and, read as UTC, the zone-less forms Python's isoformat()
// writes and a bare date.
var filterTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseFilterTime(s string) (time.Time, error) {
	// A "+01:00" offset typed into a URL unescaped arrives as " 01:00".
	fixed := strings.Replace(s, " ", "+", 1)
	for _, layout := range filterTimeLayouts {
		if t, err := time.Parse(layout, fixed); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-11-01T00:00:00Z", s)
}

// parseSort reads "field", "field,asc" or "field,desc".
func parseSort(typ, v string) (payments.OrderKey, error) {
	field, dir, _ := strings.Cut(v, ",")
	var k payments.OrderKey
	switch dir {
	case "", "asc":
	case "desc":
		k.Desc = true
	default:
		return k, fieldError(paramSort, "%q: the direction must be asc or desc", v)
	}
	attr, _, err := attributeOf(typ, field, paramSort)
	if err != nil {
		return k, err
	}
	k.Attr = attr
	return k, nil
}
