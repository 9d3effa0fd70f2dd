package payments

import (
	"context"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/scheduler"
)

// In a test marketplace the sandbox is the bank, and it returns what the
// "returned" test accounts (rails.BankOutcome) sent: a transaction succeeds
// on its business day and comes back later, at the date below, through the
// same path as a return a live marketplace's bank sends in a file
// (applyReturn), so the two cannot drift apart.

// JobSandboxReturn returns one transaction of a test marketplace.
const JobSandboxReturn = "ach.sandbox_return"

// sandboxReturnDays is when the sandbox's bank returns a transaction, in
// business days after the batch it went out in (clock.ACHSettlementDate).
var sandboxReturnDays = map[string]int{
	// A debit comes back two weeks after it succeeded: the seed's "even
	// after a few weeks", within the sixty days a consumer has to dispute
	// an unauthorized debit.
	"debits": clock.ACHDebitMaxBusinessDays + 10,
	// A payout to an account that does not exist comes back within the two
	// banking days the receiving bank has to return it.
	"credits": clock.ACHCreditMaxBusinessDays + 2,
	// A refund's failure is reported 1 to 4 business days after its batch:
	// the late end, after it was shown succeeded.
	"refunds": clock.ACHRefundFailureMaxBusinessDays,
	// A settlement is a payout of a payable account, returned as a credit.
	"settlements": clock.ACHCreditMaxBusinessDays + 2,
	// A reversal is a debit of the recipient's bank, returned as one.
	"reversals": clock.ACHDebitMaxBusinessDays + 10,
}

// sandboxReturnCodes are the NACHA return codes the sandbox's bank gives.
var sandboxReturnCodes = map[string][2]string{
	"debits":      {"R01", "Insufficient Funds"},
	"credits":     {"R03", "No Account/Unable to Locate Account"},
	"refunds":     {"R03", "No Account/Unable to Locate Account"},
	"settlements": {"R03", "No Account/Unable to Locate Account"},
	"reversals":   {"R01", "Insufficient Funds"},
}

// scheduleSandboxReturn follows up a succeeded transaction the sandbox will
// return: the job commits with the success.
func (w *Writer) scheduleSandboxReturn(ctx context.Context, r Resource) error {
	days, ok := sandboxReturnDays[r.Type]
	if !ok {
		return nil
	}
	due := w.processTime(clock.ACHSettlementDate(r.CreatedAt, days))
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobSandboxReturn, Key: r.ID, Payload: r.Marketplace, DueAt: due}, w.Writer.Now())
}

// SandboxReturn is the handler of JobSandboxReturn: the return and the job's
// completion commit together, so it happens exactly once; a transaction
// already failed (returned by other means) is left as it is.
func (s *Service) SandboxReturn(ctx context.Context, j scheduler.Job) error {
	return s.runJob(ctx, j, func(ctx context.Context, w *Writer) error {
		r, err := w.Lock(ctx, j.Payload, "", j.Key)
		if err != nil {
			return err
		}
		code := sandboxReturnCodes[r.Type]
		ret := ACHReturnResult{TraceNumber: Str(r.Fields["trace_number"]), Transaction: r.ID, Code: code[0], Reason: code[1]}
		_, err = w.applyReturn(ctx, j.Payload, ACHEntry{TraceNumber: ret.TraceNumber, ResourceID: r.ID, AmountCents: Int(r.Fields["amount"])}, ret)
		return err
	})
}
