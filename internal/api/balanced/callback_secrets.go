package balanced

import "github.com/poise-payments/poise/internal/payments"

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
