package store

import (
	"reflect"
	"testing"
)

// Each held-back column travels as the array its Go values make, and a
// column with a NULL as an array of pointers; a value with no array form
// is reported, so that the rows go as VALUES instead.
func TestColumnArray(t *testing.T) {
	rows := [][]any{
		{"a", int64(1), 7, true, nil, struct{}{}},
		{"b", int64(2), 8, false, "x", struct{}{}},
	}
	x := "x"
	for c, want := range []struct {
		array   any
		sqlType string
	}{
		{[]string{"a", "b"}, "TEXT"},
		{[]int64{1, 2}, "BIGINT"},
		{[]int64{7, 8}, "BIGINT"},
		{[]bool{true, false}, "BOOLEAN"},
		{[]*string{nil, &x}, "TEXT"},
	} {
		array, sqlType, ok := columnArray(rows, c)
		if !ok || sqlType != want.sqlType || !reflect.DeepEqual(array, want.array) {
			t.Errorf("column %d = %#v, %q, %v; want %#v, %q", c, array, sqlType, ok, want.array, want.sqlType)
		}
	}
	if _, _, ok := columnArray(rows, 5); ok {
		t.Error("a column of structs has an array form")
	}
	if _, _, ok := columnArray([][]any{{nil}, {nil}}, 0); ok {
		t.Error("a column of NULLs alone has an array type")
	}
}
