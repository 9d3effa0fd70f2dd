package balances

import "strings"

// TransactionTypes are the transaction types of the seed's balance-rules
// table, in its order, each with the action it has when no rule of the
// party says otherwise.
var TransactionTypes = []struct{ Type, Action string }{
	{"sale", "add"}, {"capture", "add"}, {"dispute", "add"}, {"chargeback_reversal", "add"},
	{"arbitration", "add"}, {"payout_cancel", "add"},
	{"chargeback", "deduct"}, {"prearbitration", "deduct"}, {"reversal", "deduct"}, {"payout", "deduct"},
	{"transfer", "deduct"},
	{"preauth", "rate_only"}, {"cancel", "rate_only"}, {"fraud", "rate_only"}, {"retrieval", "rate_only"},
	{"pan_eligibility", "rate_only"}, {"create_card_mapping", "rate_only"}, {"update_card_mapping", "rate_only"},
	{"inquire_card_mapping", "rate_only"}, {"delete_card_mapping", "rate_only"}, {"mfo_scoring", "rate_only"},
	{"account_verification", "rate_only"}, {"void", "rate_only"},
}

// typeAliases are other names the seed gives a type: its table writes
// "transfer (deposit2card)".
var typeAliases = map[string]string{"deposit2card": "transfer", "transfer (deposit2card)": "transfer"}

// CanonicalType names a transaction type as the seed's table does, and
// reports whether it is one of the table's 23 types.
func CanonicalType(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if a, ok := typeAliases[s]; ok {
		s = a
	}
	for _, t := range TransactionTypes {
		if t.Type == s {
			return s, true
		}
	}
	return s, false
}

// CardMappingType reports whether a type operates on a card mapping: such
// a transaction names the mapping it concerns.
func CardMappingType(typ string) bool {
	switch typ {
	case "create_card_mapping", "update_card_mapping", "inquire_card_mapping", "delete_card_mapping":
		return true
	}
	return false
}

// BuiltinGates are the rails of the Balanced API, which every marketplace
// has without configuring them: its card sandbox, its ACH, and balance
// adjustments.
var BuiltinGates = []string{"card", "ach", "adjustment"}

// BuiltinProcessor is the processor of the built-in gates.
const BuiltinProcessor = "balanced"

// IsBuiltinGate reports whether a gate is one of BuiltinGates.
func IsBuiltinGate(name string) bool {
	for _, g := range BuiltinGates {
		if g == name {
			return true
		}
	}
	return false
}
