package balanced

import "github.com/poise-payments/poise/internal/payments"

// completeEnvelope adds to an envelope what depends on the resources it
// carries rather than on their type alone.
func completeEnvelope(envelope map[string]any, typ string, items []payments.Resource) {
	withSigningSecrets(envelope, typ, items)
	withoutCardCredits(envelope, typ, items)
}

// withoutCardCredits drops the cards.credits template when no card in the
// envelope can receive a credit: Balanced's clients decide from that link
// whether to offer a credit at all. (A page mixing both keeps it; the link
// is the envelope's, and a refused credit is answered clearly.)
func withoutCardCredits(envelope map[string]any, typ string, items []payments.Resource) {
	if typ != "cards" {
		return
	}
	for _, c := range items {
		if payments.Bool(c.Fields["can_credit"]) {
			return
		}
	}
	if links, ok := envelope["links"].(map[string]any); ok {
		delete(links, "cards.credits")
	}
}

// withSigningSecrets adds the signing secrets of the callbacks in an
// envelope to its meta, keyed by callback id, so that their marketplace
// can verify deliveries (see events.Sign). They go in the envelope, not in
// each callback: Balanced's callback schema allows no field beyond its
// own, and its clients check that.
func withSigningSecrets(envelope map[string]any, typ string, items []payments.Resource) {
	if typ != "callbacks" {
		return
	}
	secrets := make(map[string]any, len(items))
	for _, cb := range items {
		secrets[cb.ID] = payments.Str(cb.Private["secret"])
	}
	meta, _ := envelope["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		envelope["meta"] = meta
	}
	meta["signing_secrets"] = secrets
}
