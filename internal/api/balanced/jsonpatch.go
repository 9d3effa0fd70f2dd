package balanced

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// maxPatchOps bounds one JSON Patch request.
const maxPatchOps = 100

// applyPatch applies RFC 6902 operations to doc, the resource's envelope
// ({"cards": [{...}]}), as the spec's paths (/cards/0/meta/x) expect. A
// failed "test" applies nothing and is a conflict.
func applyPatch(doc map[string]any, ops []any) error {
	if len(ops) > maxPatchOps {
		return apperr.WithReason(apperr.Invalid, "request", "at most %d patch operations", maxPatchOps)
	}
	for _, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			return apperr.WithReason(apperr.Invalid, "request", "a patch operation must be an object")
		}
		kind, _ := op["op"].(string)
		path, _ := op["path"].(string)
		value := op["value"]
		switch kind {
		case "add", "replace":
			if err := setPointer(doc, path, value); err != nil {
				return err
			}
		case "remove":
			if _, err := removePointer(doc, path); err != nil {
				return err
			}
		case "move", "copy":
			from, _ := op["from"].(string)
			v, err := getPointer(doc, from)
			if err != nil {
				return err
			}
			if kind == "move" {
				if _, err := removePointer(doc, from); err != nil {
					return err
				}
			} else {
				// A copy is a value of its own: sharing it would let a copy
				// into itself make the document a cycle.
				v = deepCopy(v)
			}
			if err := setPointer(doc, path, v); err != nil {
				return err
			}
		case "test":
			v, err := getPointer(doc, path)
			if err != nil || !jsonEqual(v, value) {
				return apperr.WithReason(apperr.Conflict, "patch-test-failed", "the test of %s failed", path)
			}
		default:
			return apperr.WithReason(apperr.Invalid, "request", "unknown patch operation %q", kind)
		}
	}
	return nil
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	json.Unmarshal(ja, &x)
	json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

func pointerParts(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, apperr.WithReason(apperr.Invalid, "request", "patch path %q must start with /", path)
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// walk returns the container holding the last part of path.
func walk(doc any, parts []string) (any, error) {
	cur := doc
	for _, p := range parts {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[p]
			if !ok {
				return nil, apperr.WithReason(apperr.Invalid, "request", "patch path has no %q", p)
			}
			cur = next
		case map[string]string:
			v, ok := c[p]
			if !ok {
				return nil, apperr.WithReason(apperr.Invalid, "request", "patch path has no %q", p)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil, apperr.WithReason(apperr.Invalid, "request", "patch path index %q is out of range", p)
			}
			cur = c[i]
		default:
			return nil, apperr.WithReason(apperr.Invalid, "request", "patch path goes through a value")
		}
	}
	return cur, nil
}

func getPointer(doc map[string]any, path string) (any, error) {
	parts, err := pointerParts(path)
	if err != nil {
		return nil, err
	}
	return walk(doc, parts)
}

func setPointer(doc map[string]any, path string, value any) error {
	parts, err := pointerParts(path)
	if err != nil {
		return err
	}
	parent, err := walk(doc, parts[:len(parts)-1])
	if err != nil {
		return err
	}
	last := parts[len(parts)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = value
	case map[string]string:
		s, ok := value.(string)
		if !ok {
			b, _ := json.Marshal(value)
			s = string(b)
		}
		c[last] = s
	default:
		return apperr.WithReason(apperr.Invalid, "request", "cannot set %s", path)
	}
	return nil
}

func removePointer(doc map[string]any, path string) (any, error) {
	parts, err := pointerParts(path)
	if err != nil {
		return nil, err
	}
	parent, err := walk(doc, parts[:len(parts)-1])
	if err != nil {
		return nil, err
	}
	last := parts[len(parts)-1]
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return nil, apperr.WithReason(apperr.Invalid, "request", "nothing to remove at %s", path)
		}
		delete(c, last)
		return v, nil
	case map[string]string:
		v, ok := c[last]
		if !ok {
			return nil, apperr.WithReason(apperr.Invalid, "request", "nothing to remove at %s", path)
		}
		delete(c, last)
		return v, nil
	}
	return nil, apperr.WithReason(apperr.Invalid, "request", "cannot remove %s", path)
}

// patchedResource applies a patch to a resource's representation and
// returns the patched resource object as fields.
func (a *API) patchedResource(c *call, typ, id string, ops []any) (fields, error) {
	r, err := a.svc.GetTyped(c.ctx, c.mp(), typ, id)
	if err != nil {
		return nil, err
	}
	rep, err := a.representation(c.ctx, r)
	if err != nil {
		return nil, err
	}
	// Round-trip through JSON so every nested value is a plain map.
	b, _ := json.Marshal(map[string]any{typ: []any{rep}})
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := applyPatch(doc, ops); err != nil {
		return nil, err
	}
	list, _ := doc[typ].([]any)
	if len(list) != 1 {
		return nil, apperr.WithReason(apperr.Invalid, "request", "a patch must keep exactly one %s", singular(typ))
	}
	obj, _ := list[0].(map[string]any)
	return fields(obj), nil
}
