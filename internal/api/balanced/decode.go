package balanced

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/payments"
)

// maxBodyBytes bounds a request body. The largest real request, a customer
// with an address and meta, is a few kilobytes; 256 KiB leaves room for
// generous meta without letting one request hold megabytes in memory.
const maxBodyBytes = 256 << 10

// fields is a decoded request body: the one resource it describes, with
// nested objects as maps. Numbers are kept as json.Number or strings and
// read through the typed accessors below.
type fields map[string]any

// decodeBody reads a body in any shape the spec sends: a JSON envelope
// ({"debits": [{...}]}), flat JSON, form-encoded with bracket nesting, or a
// JSON Patch list (returned as patch). plural names the envelope key.
//
// A body means one thing or is refused: one JSON object or array and
// nothing after it, an envelope holding exactly one object, a form whose
// field names are names. A string holding a NUL (or, in a form, bytes that
// are not UTF-8) is refused too: no field has a use for one, and a
// database would refuse to store it.
func decodeBody(contentType string, body []byte, plural string) (f fields, patch []any, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		return fields{}, nil, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	looksJSON := body[0] == '{' || body[0] == '[' || body[0] == '"'
	if (mt == "application/x-www-form-urlencoded" || mt == "") && !looksJSON {
		return decodeForm(string(body))
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, nil, err
	}
	if err := checkStrings(v, ""); err != nil {
		return nil, nil, err
	}
	switch x := v.(type) {
	case []any:
		return nil, x, nil
	case map[string]any:
		inner := x[plural]
		if inner == nil || plural == "" {
			return fields(x), nil, nil
		}
		switch in := inner.(type) {
		case []any:
			if len(in) == 0 {
				return fields{}, nil, nil
			}
			m, ok := in[0].(map[string]any)
			if !ok || len(in) > 1 {
				return nil, nil, fieldError(plural, "must be a list of one object")
			}
			return fields(m), nil, nil
		case map[string]any:
			return fields(in), nil, nil
		}
		return nil, nil, fieldError(plural, "must be a list of one object")
	}
	return nil, nil, apperr.WithReason(apperr.Invalid, "request", "the body must be a JSON object, not %s", jsonKind(v))
}

// decodeJSON reads exactly one JSON value, numbers kept as json.Number.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apperr.WithReason(apperr.Invalid, "request", "the body is not valid JSON: %v", err)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return nil, apperr.WithReason(apperr.Invalid, "request", "the body holds more than one JSON value")
	}
	return v, nil
}

// jsonKind names the kind of a decoded JSON value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	}
	return "an object"
}

// checkStrings refuses a NUL anywhere in a decoded value, keys included;
// at names where it is, for the message.
func checkStrings(v any, at string) error {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return fieldError(fieldName(at), "must not contain a NUL character")
		}
	case []any:
		for _, e := range x {
			if err := checkStrings(e, at); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			name := k
			if at != "" {
				name = at + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return fieldError(fieldName(at), "has a key with a NUL character")
			}
			if err := checkStrings(e, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldName(at string) string {
	if at == "" {
		return "the body"
	}
	return strings.ToValidUTF8(strings.ReplaceAll(at, "\x00", ""), "")
}

// decodeForm turns "a=1&source[number]=4111&meta[k]=v&x[]=1" into nested maps.
func decodeForm(body string) (fields, []any, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, nil, apperr.WithReason(apperr.Invalid, "request", "the form body is malformed")
	}
	keys := make([]string, 0, len(vals))
	for k, vs := range vals {
		if !validFormKey(k) {
			return nil, nil, apperr.WithReason(apperr.Invalid, "request", "the form field name %q is malformed", strings.ToValidUTF8(k, "?"))
		}
		for _, v := range vs {
			if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
				return nil, nil, fieldError(k, "must be UTF-8 text without NUL characters")
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := fields{}
	for _, k := range keys {
		path := formPath(k)
		cur := map[string]any(out)
		for i, seg := range path {
			last := i == len(path)-1
			if last {
				if seg == "" { // x[]=a&x[]=b
					if _, taken := cur[path[i-1]]; taken {
						return nil, nil, fieldError(k, "is given both as a value and as a list")
					}
					list := make([]any, len(vals[k]))
					for j, v := range vals[k] {
						list[j] = v
					}
					cur[path[i-1]] = list
					break
				}
				if _, nested := cur[seg].(map[string]any); nested {
					return nil, nil, fieldError(k, "is given both as a value and as an object")
				}
				cur[seg] = vals[k][len(vals[k])-1]
				break
			}
			if path[i+1] == "" {
				continue
			}
			next, ok := cur[seg].(map[string]any)
			if !ok {
				if _, taken := cur[seg]; taken {
					return nil, nil, fieldError(k, "is given both as a value and as an object")
				}
				next = map[string]any{}
				cur[seg] = next
			}
			cur = next
		}
	}
	return out, nil, nil
}

// validFormKey accepts "name", "name[a][b]" and "name[]" (last only): a
// name of letters, digits, '_', '.' and '-', then bracketed parts that
// hold no brackets, control characters or bytes that are not UTF-8.
func validFormKey(k string) bool {
	if !utf8.ValidString(k) {
		return false
	}
	i := strings.IndexByte(k, '[')
	name, rest := k, ""
	if i >= 0 {
		name, rest = k[:i], k[i:]
	}
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r == '.' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	for rest != "" {
		if rest[0] != '[' {
			return false
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return false
		}
		seg := rest[1:j]
		for _, r := range seg {
			if r == '[' || r < ' ' || r == 0x7f {
				return false
			}
		}
		rest = rest[j+1:]
		if seg == "" && rest != "" {
			return false
		}
	}
	return true
}

// formPath splits "a[b][c]" into ["a", "b", "c"].
func formPath(k string) []string {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		return []string{k}
	}
	path := []string{k[:i]}
	for rest := k[i:]; strings.HasPrefix(rest, "["); {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		path = append(path, rest[1:j])
		rest = rest[j+1:]
	}
	return path
}

// has reports whether a field was given (even as null).
func (f fields) has(k string) bool { _, ok := f[k]; return ok }

// str reads a string field; numbers are given back as their text.
func (f fields) str(k string) string {
	switch v := f[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// integer reads an integer given as a JSON number or a numeric string.
func (f fields) integer(k string) (n int64, given bool, err error) {
	v, ok := f[k]
	if !ok || v == nil {
		return 0, false, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		return 0, true, apperr.WithReason(apperr.Invalid, "request", "%s must be an integer", k)
	default:
		return 0, true, apperr.WithReason(apperr.Invalid, "request", "%s must be an integer", k)
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, apperr.WithReason(apperr.Invalid, "request", "%s must be an integer, not %q", k, s)
	}
	return n, true, nil
}

// meta reads a meta map: string keys to string values; other values are
// kept as their JSON text, as Balanced did.
func (f fields) meta(k string) (map[string]string, error) {
	v, ok := f[k]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, apperr.WithReason(apperr.Invalid, "request", "%s must be an object", k)
	}
	out := make(map[string]string, len(m))
	for key, val := range m {
		switch x := val.(type) {
		case string:
			out[key] = x
		case nil:
			out[key] = ""
		default:
			b, _ := json.Marshal(x)
			out[key] = string(b)
		}
	}
	return out, nil
}

// idKinds maps the prefix of an id to the type of resource it names.
var idKinds = map[string]string{
	"CU": "customers", "CC": "cards", "BA": "bank_accounts", "NT": "external_accounts", "AT": "accounts",
	"OR": "orders", "HL": "card_holds", "WD": "debits", "CR": "credits", "RF": "refunds", "RV": "reversals",
	"ST": "settlements", "DT": "disputes", "EV": "events", "CB": "callbacks", "BZ": "bank_account_verifications",
	"MC": "merchants", "MG": "managers", "EP": "endpoints", "BL": "balances",
}

// collectionAliases are the other collections an href may name a type by.
var collectionAliases = map[string]string{"holds": "card_holds", "verifications": "bank_account_verifications"}

// kindOf is the type of resource an id names by its prefix, or "".
func kindOf(s string) string {
	if !id.Valid(s) || len(s) < 3 {
		return ""
	}
	return idKinds[s[:2]]
}

// reference reads a reference field: an id ("OR…"), an href ("/orders/OR…",
// also a revision 1.0 one ending that way) or an object with an id or an
// href. Absent or null is "", no reference. Anything else given, including
// an id of another type than kinds, is refused naming the field: money must
// never go somewhere by default because a reference could not be read.
func (f fields) reference(k string, kinds ...string) (string, error) {
	v, ok := f[k]
	if !ok || v == nil {
		return "", nil
	}
	if m, isObj := v.(map[string]any); isObj {
		switch {
		case m["id"] != nil:
			v = m["id"]
		case m["href"] != nil:
			v = m["href"]
		default:
			return "", fieldError(k, "must be an id or an href of %s", kindList(kinds))
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", fieldError(k, "must be an id or an href of %s, not %s", kindList(kinds), jsonKind(v))
	}
	return parseReference(k, s, kinds)
}

// parseReference checks one id or href against the kinds it may name.
func parseReference(k, s string, kinds []string) (string, error) {
	s = strings.TrimSpace(s)
	ref, collection := s, ""
	if strings.HasPrefix(s, "/") {
		parts := strings.Split(s[1:], "/")
		ref = parts[len(parts)-1]
		if len(parts) > 1 {
			collection = parts[len(parts)-2]
		}
	}
	kind := kindOf(ref)
	if kind == "" || !slices.Contains(kinds, kind) {
		return "", fieldError(k, "must be an id or an href of %s, not %q", kindList(kinds), strings.ToValidUTF8(s, "?"))
	}
	if alias := collectionAliases[collection]; alias != "" {
		collection = alias
	}
	if collection != "" && collection != kind && collection != "resources" {
		return "", fieldError(k, "the href %q names %s by a %s id", s, collection, singular(kind))
	}
	return ref, nil
}

func kindList(kinds []string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = strings.ReplaceAll(singular(k), "_", " ")
	}
	return strings.Join(names, " or ")
}

// linkRef reads a reference given at the top level or under links.
func (f fields) linkRef(name string, kinds ...string) (string, error) {
	if f.has(name) {
		return f.reference(name, kinds...)
	}
	l, ok, err := f.objectField("links")
	if err != nil || !ok {
		return "", err
	}
	return l.reference(name, kinds...)
}

// objectField reads a nested object; given as anything else, it is refused.
func (f fields) objectField(k string) (fields, bool, error) {
	v, ok := f[k]
	if !ok || v == nil {
		return nil, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, fieldError(k, "must be an object, not %s", jsonKind(v))
	}
	return fields(m), true, nil
}

// scalars refuses any of keys given as an object or a list: a text field
// read as empty because it came as [] would be stored as if never given.
func (f fields) scalars(keys ...string) error {
	for _, k := range keys {
		switch v := f[k].(type) {
		case map[string]any, []any:
			return fieldError(k, "must be a string, not %s", jsonKind(v))
		}
	}
	return nil
}

// idList reads a list of references, each one of kinds.
func (f fields) idList(k string, kinds ...string) ([]string, error) {
	v, ok := f[k]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(k, "must be a list of ids, not %s", jsonKind(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fieldError(k, "must be a list of ids, not of %s", jsonKind(e))
		}
		ref, err := parseReference(k, s, kinds)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// currency checks a transaction's currency: the API moves US dollars only,
// so any other (or an empty one) is refused rather than charged in dollars.
func (f fields) currency() error {
	v, ok := f["currency"]
	if !ok || v == nil {
		return nil
	}
	if s, _ := v.(string); s != payments.Currency {
		return fieldError("currency", "must be %s", payments.Currency)
	}
	return nil
}

// address reads an address object, keeping only the known parts.
func (f fields) address(k string) (map[string]any, error) {
	a, ok, err := f.objectField(k)
	if err != nil || !ok {
		return nil, err
	}
	parts := []string{"line1", "line2", "city", "state", "postal_code", "country_code"}
	if err := a.scalars(parts...); err != nil {
		return nil, fieldError(k, "%v", apperr.MessageOf(err))
	}
	out := map[string]any{}
	for _, part := range parts {
		if a.has(part) {
			if a[part] == nil {
				out[part] = nil
			} else {
				out[part] = a.str(part)
			}
		}
	}
	return out, nil
}

func fieldError(field, format string, args ...any) error {
	return apperr.WithReason(apperr.Invalid, "request", "%s: %s", field, fmt.Sprintf(format, args...))
}
