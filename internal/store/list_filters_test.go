package store_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// listModel answers list queries over resources in Go, independently of
// SQL: what the store must return.
type listModel struct{ rs []payments.Resource }

// value is the attribute of r, or nil when r lacks it or holds another kind.
func (listModel) value(r payments.Resource, a payments.Attribute) any {
	switch a.Own {
	case payments.OwnCreatedAt:
		return r.CreatedAt.UnixMicro()
	case payments.OwnUpdatedAt:
		return r.UpdatedAt.UnixMicro()
	}
	var v any = r.Fields
	for _, k := range a.Field {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	switch a.Kind {
	case payments.KindNumber:
		switch n := v.(type) {
		case int64:
			return n
		case json.Number:
			i, err := n.Int64()
			if err != nil {
				return nil
			}
			return i
		}
	case payments.KindText:
		if s, ok := v.(string); ok {
			return s
		}
	case payments.KindBool:
		if b, ok := v.(bool); ok {
			return b
		}
	}
	return nil
}

func compareAny(a, b any) int {
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		if x == b.(bool) {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	}
	panic(fmt.Sprintf("compare %T", a))
}

func modelValue(f payments.Filter, v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro()
	}
	return v
}

func (m listModel) matches(r payments.Resource, f payments.Filter) bool {
	v := m.value(r, f.Attr)
	if v == nil {
		return false
	}
	want := modelValue(f, f.Values[0])
	switch f.Op {
	case payments.OpEq:
		return compareAny(v, want) == 0
	case payments.OpNe:
		return compareAny(v, want) != 0
	case payments.OpLt:
		return compareAny(v, want) < 0
	case payments.OpLe:
		return compareAny(v, want) <= 0
	case payments.OpGt:
		return compareAny(v, want) > 0
	case payments.OpGe:
		return compareAny(v, want) >= 0
	case payments.OpIn, payments.OpNotIn:
		in := slices.ContainsFunc(f.Values, func(w any) bool { return compareAny(v, modelValue(f, w)) == 0 })
		return in == (f.Op == payments.OpIn)
	case payments.OpContains:
		return strings.Contains(v.(string), want.(string))
	case payments.OpStartsWith:
		return strings.HasPrefix(v.(string), want.(string))
	case payments.OpEndsWith:
		return strings.HasSuffix(v.(string), want.(string))
	}
	panic("operator " + f.Op)
}

func (m listModel) list(q payments.ListQuery) ([]string, int) {
	var hits []payments.Resource
	for _, r := range m.rs {
		if r.Marketplace != q.Marketplace || r.Type != q.Type {
			continue
		}
		ok := true
		for _, f := range q.Filters {
			ok = ok && m.matches(r, f)
		}
		if ok {
			hits = append(hits, r)
		}
	}
	keys := append([]payments.OrderKey{}, q.Order...)
	tieDesc, byCreated := true, false
	for _, k := range q.Order {
		if k.Attr.Own == payments.OwnCreatedAt {
			byCreated, tieDesc = true, k.Desc
		}
	}
	if !byCreated {
		keys = append(keys, payments.OrderKey{Attr: payments.Attribute{Own: payments.OwnCreatedAt}, Desc: true})
	}
	slices.SortFunc(hits, func(a, b payments.Resource) int {
		for _, k := range keys {
			va, vb := m.value(a, k.Attr), m.value(b, k.Attr)
			switch {
			case va == nil && vb == nil:
				continue
			case va == nil:
				return 1
			case vb == nil:
				return -1
			}
			c := compareAny(va, vb)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		c := strings.Compare(a.ID, b.ID)
		if tieDesc {
			c = -c
		}
		return c
	})
	var ids []string
	for i := q.Offset; i < len(hits) && i < q.Offset+q.Limit; i++ {
		ids = append(ids, hits[i].ID)
	}
	return ids, len(hits)
}

// Random filters and orders over random documents answer what the model
// answers, on both stores: the SQL reads JSON values by kind, compares
// text byte by byte, and puts missing values last, the same way everywhere.
func TestListFiltersMatchAModel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		rng := rand.New(rand.NewPCG(7, uint64(len(kind))))
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		words := []string{"a", "ab", "abc", "B", "b", "é", "éa", "tag", "tag 1", "Tag", "x%y", "_", "", "z"}
		statuses := []string{"pending", "succeeded", "failed"}
		var m listModel
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := range 240 {
				mp := "MP1"
				if i%5 == 0 {
					mp = "MP2"
				}
				f := map[string]any{}
				// Each field is sometimes missing, sometimes of another kind.
				switch rng.IntN(6) {
				case 0:
				case 1:
					f["amount"] = "100"
				default:
					f["amount"] = json.Number(fmt.Sprint(rng.IntN(20) * 50))
				}
				if rng.IntN(5) > 0 {
					f["status"] = statuses[rng.IntN(len(statuses))]
				}
				if rng.IntN(4) > 0 {
					f["email"] = words[rng.IntN(len(words))] + "@" + words[rng.IntN(len(words))]
				}
				switch rng.IntN(4) {
				case 0:
				case 1:
					f["can_debit"] = "true"
				default:
					f["can_debit"] = rng.IntN(2) == 0
				}
				meta := map[string]any{}
				if rng.IntN(3) > 0 {
					meta["tag"] = words[rng.IntN(len(words))]
				}
				if rng.IntN(3) == 0 {
					meta["odd key.with dots"] = words[rng.IntN(len(words))]
				}
				f["meta"] = meta
				// Some resources share a creation time, to test the tie-break.
				at := base.Add(time.Duration(rng.IntN(120)) * time.Minute)
				r := payments.Resource{ID: fmt.Sprintf("WD%03d", i), Marketplace: mp, Type: "debits",
					CreatedAt: at, UpdatedAt: at.Add(time.Duration(rng.IntN(10)) * time.Hour), Fields: f, Links: map[string]string{}}
				if err := tx.InsertResource(ctx, r); err != nil {
					return err
				}
				// The model holds what a read gives back.
				r.Fields = roundTrip(t, f)
				m.rs = append(m.rs, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		amount := payments.Attribute{Field: []string{"amount"}, Kind: payments.KindNumber}
		status := payments.Attribute{Field: []string{"status"}, Kind: payments.KindText}
		email := payments.Attribute{Field: []string{"email"}, Kind: payments.KindText}
		canDebit := payments.Attribute{Field: []string{"can_debit"}, Kind: payments.KindBool}
		tag := payments.Attribute{Field: []string{"meta", "tag"}, Kind: payments.KindText}
		dotted := payments.Attribute{Field: []string{"meta", "odd key.with dots"}, Kind: payments.KindText}
		created := payments.Attribute{Own: payments.OwnCreatedAt, Kind: payments.KindTime}
		updated := payments.Attribute{Own: payments.OwnUpdatedAt, Kind: payments.KindTime}
		ordering := []payments.FilterOp{payments.OpEq, payments.OpNe, payments.OpLt, payments.OpLe, payments.OpGt, payments.OpGe}
		textOps := []payments.FilterOp{payments.OpEq, payments.OpNe, payments.OpLt, payments.OpGt, payments.OpContains, payments.OpStartsWith, payments.OpEndsWith, payments.OpIn, payments.OpNotIn}
		randFilter := func() payments.Filter {
			word := func() any { return words[rng.IntN(len(words))] }
			pick := func(ops []payments.FilterOp) payments.FilterOp { return ops[rng.IntN(len(ops))] }
			var f payments.Filter
			var gen func() any
			switch rng.IntN(7) {
			case 0:
				f.Attr, f.Op = amount, pick(append(ordering, payments.OpIn, payments.OpNotIn))
				gen = func() any { return int64(rng.IntN(22) * 50) }
			case 1:
				f.Attr, f.Op = status, pick([]payments.FilterOp{payments.OpEq, payments.OpNe, payments.OpIn, payments.OpNotIn})
				gen = func() any { return statuses[rng.IntN(len(statuses))] }
			case 2:
				f.Attr, f.Op, gen = email, pick(textOps), word
			case 3:
				f.Attr, f.Op, gen = tag, pick(textOps), word
			case 4:
				f.Attr, f.Op, gen = dotted, pick(textOps), word
			case 5:
				f.Attr, f.Op = canDebit, pick([]payments.FilterOp{payments.OpEq, payments.OpNe})
				gen = func() any { return rng.IntN(2) == 0 }
			default:
				f.Attr, f.Op = pick2(rng, created, updated), pick(ordering)
				gen = func() any { return base.Add(time.Duration(rng.IntN(130)) * time.Minute) }
			}
			n := 1
			if f.Op == payments.OpIn || f.Op == payments.OpNotIn {
				n = 1 + rng.IntN(3)
			}
			for range n {
				f.Values = append(f.Values, gen())
			}
			return f
		}
		sortable := []payments.Attribute{amount, email, tag, canDebit, created, updated, status}
		for i := range 300 {
			q := payments.ListQuery{Marketplace: "MP1", Type: "debits", Limit: 1 + rng.IntN(30), Offset: rng.IntN(40)}
			if i%10 == 0 {
				q.Marketplace = "MP2"
			}
			for range rng.IntN(3) {
				q.Filters = append(q.Filters, randFilter())
			}
			for range rng.IntN(3) {
				q.Order = append(q.Order, payments.OrderKey{Attr: sortable[rng.IntN(len(sortable))], Desc: rng.IntN(2) == 0})
			}
			items, total, err := db.ListResources(ctx, q)
			if err != nil {
				t.Fatalf("query %d %+v: %v", i, q, err)
			}
			var got []string
			for _, r := range items {
				got = append(got, r.ID)
			}
			want, wantTotal := m.list(q)
			if total != wantTotal || !slices.Equal(got, want) {
				t.Fatalf("query %d %+v:\n got %d %v\nwant %d %v", i, q, total, got, wantTotal, want)
			}
		}
	})
}

func pick2(rng *rand.Rand, a, b payments.Attribute) payments.Attribute {
	if rng.IntN(2) == 0 {
		return a
	}
	return b
}

func roundTrip(t *testing.T, f map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
