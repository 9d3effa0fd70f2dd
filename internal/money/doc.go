// Package money holds Poise's one money type and its exact arithmetic.
//
// An amount is an int64 count of minor units (cents, fils, yen) of one
// ISO 4217 currency. Floats appear nowhere: a binary float cannot hold 0.10
// exactly, and a ledger that drifts by a fraction of a cent per transfer no
// longer sums to zero. Every operation either gives the exact answer or
// returns an error; nothing wraps around on overflow and nothing rounds
// silently.
//
// Rates (fee percentages, reserve percentages) are exact decimals. The only
// place a value is ever rounded is MulDivRound, and its doc comment states
// the rule; Fee and Percent go through it.
package money
