package payments

// ListQuery selects a page of resources of one type in one marketplace.
type ListQuery struct {
	Marketplace string
	Type        string
	// LinkRel and LinkTarget, when set, keep only resources whose link
	// LinkRel names LinkTarget (the debits of a customer, ...). LinkRels
	// widens LinkRel to any of several rels (the settlements an account
	// took part in, as source or destination); a resource linking the
	// target under two of them is listed once.
	LinkRel    string
	LinkRels   []string
	LinkTarget string
	// IDs, when set, keeps only these resources.
	IDs []string
	// BuyersOf, when set, keeps only the customers whose succeeded debits
	// went into this order: the order's buyers.
	BuyersOf string
	// Filters keep only resources matching every one of them.
	Filters []Filter
	// Order sorts the page; ties, and an empty Order, go newest first.
	Order []OrderKey
	// WithHidden includes hidden resources.
	WithHidden bool
	// WithoutTotal skips counting every match (total comes back -1): a
	// page that needs only to know whether another follows asks for one
	// row more instead, so paging 10^5 rows costs a page, not a count.
	WithoutTotal bool
	Limit        int
	Offset       int
}

// ValueKind says how an attribute's values compare.
type ValueKind int

const (
	// KindText compares strings byte by byte.
	KindText ValueKind = iota
	// KindNumber compares integers.
	KindNumber
	// KindTime compares instants; only a resource's own times have it.
	KindTime
	// KindBool compares true and false.
	KindBool
)

// Attribute names a value of a resource that lists filter and sort on:
// one of its own times, or a field the API shows.
type Attribute struct {
	// Own is OwnCreatedAt or OwnUpdatedAt, or "" for a field.
	Own string
	// Field is the path of the value inside Fields: ["amount"], or
	// ["meta", "tag"] for one key of the meta object.
	Field []string
	Kind  ValueKind
}

// A resource's own times.
const (
	OwnCreatedAt = "created_at"
	OwnUpdatedAt = "updated_at"
)

// FilterOp is how a filter compares an attribute with its values.
type FilterOp string

// The operators of Balanced's list filters.
const (
	OpEq         FilterOp = "="
	OpNe         FilterOp = "!="
	OpLt         FilterOp = "<"
	OpLe         FilterOp = "<="
	OpGt         FilterOp = ">"
	OpGe         FilterOp = ">="
	OpIn         FilterOp = "in"
	OpNotIn      FilterOp = "!in"
	OpContains   FilterOp = "contains"
	OpStartsWith FilterOp = "startswith"
	OpEndsWith   FilterOp = "endswith"
)

// Filter keeps the resources whose attribute compares with its values.
// Values hold int64 for KindNumber, string for KindText, time.Time for
// KindTime and bool for KindBool; OpIn and OpNotIn take one or more, every
// other operator exactly one. A resource that lacks the attribute, or
// holds a value of another kind there, matches no filter on it.
type Filter struct {
	Attr   Attribute
	Op     FilterOp
	Values []any
}

// OrderKey sorts by one attribute; resources lacking it come last in
// either direction.
type OrderKey struct {
	Attr Attribute
	Desc bool
}
