package store

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/poise-payments/poise/internal/payments"
)

// encodeBody writes a resource's stored body: the JSON encoding/json makes
// of resourceBody, byte for byte, but without reflection for the values
// bodies are made of (maps, lists, strings, integers, booleans). Every
// write of a resource encodes its body inside the committer's batch, and
// encoding/json spent most of that time reflecting over and sorting maps.
// Any other value is encoded by encoding/json itself.
func encodeBody(r payments.Resource) (string, error) {
	buf := make([]byte, 0, 512)
	buf = append(buf, `{"fields":`...)
	buf, err := appendJSON(buf, r.Fields)
	if err != nil {
		return "", err
	}
	buf = append(buf, `,"links":`...)
	buf = appendStringMap(buf, r.Links)
	if len(r.Private) > 0 {
		buf = append(buf, `,"private":`...)
		if buf, err = appendJSON(buf, r.Private); err != nil {
			return "", err
		}
	}
	buf = append(buf, '}')
	return string(buf), nil
}

// appendJSON appends v as encoding/json would encode it.
func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case json.Number:
		// Stored bodies decode their numbers as json.Number.
		if x == "" {
			return append(buf, '0'), nil
		}
		if validNumber(string(x)) {
			return append(buf, x...), nil
		}
	case map[string]any:
		return appendObject(buf, x, appendJSON)
	case map[string]string:
		return appendStringMap(buf, x), nil
	case []any:
		if x == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendJSON(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

func appendStringMap(buf []byte, m map[string]string) []byte {
	buf, _ = appendObject(buf, m, func(buf []byte, s string) ([]byte, error) { return appendJSONString(buf, s), nil })
	return buf
}

// appendObject appends m as a JSON object, its keys in encoding/json's
// order, each value appended by value.
func appendObject[V any](buf []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(buf, "null"...), nil
	}
	buf = append(buf, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = value(buf, m[k]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// sortedKeys returns m's keys in encoding/json's order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONString appends s quoted. Printable ASCII other than the
// characters encoding/json escapes goes as it is; anything else is left to
// encoding/json, so that escapes come out the same.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// validNumber reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}
