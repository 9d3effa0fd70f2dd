package clock

import "time"

// The ACH network takes transfers in batches. Balanced submitted its batch at
// 3:30 PM Pacific Time on business days; a debit, credit or refund created
// after that waits for the next business day's batch.
const (
	achCutoffHour   = 15
	achCutoffMinute = 30
)

// pacific is the zone of the ACH cut-off rule, daylight saving included: the
// cut-off is 15:30 on the Pacific wall clock, so 23:30 UTC in winter and
// 22:30 UTC in summer.
var pacific = mustLoadLocation("America/Los_Angeles")

// achCalendar judges the business day of a cut-off by its Pacific date. At
// 15:30 Pacific it is 18:30 in New York, the same date, so this agrees with
// the Fed's own calendar for every cut-off instant.
var achCalendar = Calendar{loc: pacific}

// maxDaysToBusinessDay bounds the search for the next business day. The Fed
// never closes for more than three days running (a Monday holiday after a
// weekend), and the cut-off of the starting day may already have passed, so
// a week is ample; needing more would mean the holiday rules are broken.
const maxDaysToBusinessDay = 7

// Business days an ACH transfer takes after its batch, from seed 004 and
// DESIGN §3. The rails choose a day within each range (the test-mode bank by
// its test account numbers) and pass it to ACHSettlementDate.
const (
	// An ACH debit moves from pending to succeeded (funds reach the escrow)
	// or to failed 3 to 4 business days after its batch. A succeeded debit
	// can still be returned weeks later; that is a new event, not a delay.
	ACHDebitMinBusinessDays = 3
	ACHDebitMaxBusinessDays = 4
	// A refund is shown as succeeded one business day after its batch ...
	ACHRefundBusinessDays = 1
	// ... and a failure of it is reported 1 to 4 business days after its
	// batch, turning it from pending or succeeded to failed.
	ACHRefundFailureMinBusinessDays = 1
	ACHRefundFailureMaxBusinessDays = 4
	// A credit (payout) reaches the bank account 1 to 3 business days after
	// its batch.
	ACHCreditMinBusinessDays = 1
	ACHCreditMaxBusinessDays = 3
)

// NextACHCutoff returns the first ACH batch cut-off at or after t: 15:30
// America/Los_Angeles on a Federal Reserve business day (judged by its
// Pacific date), returned in t's location.
//
// "At or after" because the rule is that a transfer created *after* 3:30 PM
// waits for the next business day: one created at 15:30:00 exactly makes that
// day's batch. So the batch cut at instant c holds exactly the transfers with
// NextACHCutoff(createdAt) == c, that is created in (previous cut-off, c].
// The job that builds the batch runs a little after c, so it must select by
// that rule, not take whatever is pending when it runs.
func NextACHCutoff(t time.Time) time.Time {
	d := dateOf(t, pacific)
	for range maxDaysToBusinessDay {
		cutoff := time.Date(d.year, d.month, d.day, achCutoffHour, achCutoffMinute, 0, 0, pacific)
		if isBusinessDate(d) && !cutoff.Before(t) {
			return cutoff.In(t.Location())
		}
		d = d.addDays(1)
	}
	panic("clock: no business day within a week of " + t.Format(time.RFC3339))
}

// ACHSettlementDate returns when an ACH transfer created at submitted
// resolves if it takes businessDays business days: the cut-off of the batch
// it makes (NextACHCutoff), plus businessDays business days, at the same
// 15:30 Pacific wall-clock time. Counting starts at the batch, not at the
// request, because the bank sees nothing before the batch; a debit created
// on Saturday and one created on Monday at 15:00 settle together.
//
// Use it with the ranges above, for example
// ACHSettlementDate(debit.CreatedAt, ACHDebitMinBusinessDays). The result is
// in submitted's location. businessDays must not be negative (it panics, as
// AddBusinessDays does).
func ACHSettlementDate(submitted time.Time, businessDays int) time.Time {
	return achCalendar.AddBusinessDays(NextACHCutoff(submitted), businessDays)
}
