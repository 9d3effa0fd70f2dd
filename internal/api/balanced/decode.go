package balanced

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
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
func decodeBody(contentType string, body []byte, plural string) (f fields, patch []any, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		return fields{}, nil, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" || (mt == "" && body[0] != '{' && body[0] != '[') {
		return decodeForm(string(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, apperr.WithReason(apperr.Invalid, "request", "the body is not valid JSON: %v", err)
	}
	switch x := v.(type) {
	case []any:
		return fields{}, x, nil
	case map[string]any:
		if inner, ok := x[plural]; ok && plural != "" {
			switch in := inner.(type) {
			case []any:
				if len(in) == 0 {
					return fields{}, nil, nil
				}
				if m, ok := in[0].(map[string]any); ok {
					return fields(m), nil, nil
				}
			case map[string]any:
				return fields(in), nil, nil
			}
		}
		return fields(x), nil, nil
	}
	return fields{}, nil, nil
}

// decodeForm turns "a=1&source[number]=4111&meta[k]=v&x[]=1" into nested maps.
func decodeForm(body string) (fields, []any, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, nil, apperr.WithReason(apperr.Invalid, "request", "the form body is malformed")
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := fields{}
	for _, k := range keys {
		path := formPath(k)
		if len(path) == 0 {
			continue
		}
		cur := map[string]any(out)
		for i, seg := range path {
			last := i == len(path)-1
			if last {
				if seg == "" { // x[]=a&x[]=b
					cur[path[i-1]] = vals[k]
					break
				}
				cur[seg] = vals[k][len(vals[k])-1]
				break
			}
			if path[i+1] == "" {
				continue
			}
			next, ok := cur[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[seg] = next
			}
			cur = next
		}
	}
	return out, nil, nil
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

// object reads a nested object field.
func (f fields) object(k string) (fields, bool) {
	m, ok := f[k].(map[string]any)
	return fields(m), ok
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

// ref reads a reference given as an id, an href ("/orders/OR1") or an
// inline object with an id or href. It returns "" when absent.
func (f fields) ref(k string) string {
	switch v := f[k].(type) {
	case string:
		return idOf(v)
	case map[string]any:
		if id, ok := v["id"].(string); ok {
			return id
		}
		if href, ok := v["href"].(string); ok {
			return idOf(href)
		}
	}
	return ""
}

// idOf takes the last segment of an href, or returns an id as it is.
func idOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// address reads an address object, keeping only the known parts.
func (f fields) address(k string) map[string]any {
	a, ok := f.object(k)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for _, part := range []string{"line1", "line2", "city", "state", "postal_code", "country_code"} {
		if a.has(part) {
			if a[part] == nil {
				out[part] = nil
			} else {
				out[part] = a.str(part)
			}
		}
	}
	return out
}

func fieldError(field, format string, args ...any) error {
	return apperr.WithReason(apperr.Invalid, "request", "%s: %s", field, fmt.Sprintf(format, args...))
}
