// Package clock is the one way Poise reads time.
//
// Nothing else in Poise calls time.Now: services take a Clock, so that tests
// and test-mode marketplaces can run on a Manual clock and watch an ACH debit
// settle or a rolling reserve release without waiting days for it.
//
// The package also holds the calendar those waits are counted in: US Federal
// Reserve business days (Calendar) and the ACH batch cut-off (NextACHCutoff,
// ACHSettlementDate).
//
// Every instant this package returns is in UTC unless a function says it
// keeps the location of its argument; time zones matter only for deciding
// which calendar date an instant falls on, and each function that does so
// names the zone it uses.
package clock

import (
	"time"

	// Embedded so that America/New_York and America/Los_Angeles load on
	// machines without a zoneinfo database (scratch containers, Windows);
	// business days and the ACH cut-off are wrong without them.
	_ "time/tzdata"
)

// Clock tells the time. Accept it wherever code needs "now"; depend on the
// interface, not on System or Manual.
type Clock interface {
	Now() time.Time
}

// System returns the real clock. Its times are in UTC so that what Poise
// stores, logs and compares never depends on the host's TZ setting.
//
// The times carry no monotonic reading (UTC strips it): Poise compares
// instants that come back from storage, which have none either, and a
// comparison must not change meaning depending on where a time came from.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// mustLoadLocation loads a zone from the embedded tzdata. It cannot fail for
// the names this package uses; a failure means the build is broken.
func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("clock: loading time zone " + name + ": " + err.Error())
	}
	return loc
}

// Offset returns base moved ahead by d: the clock of a test-mode marketplace,
// whose time is the process's time plus every advance it was given. Its Now
// follows base, so an Offset of a batch's fixed instant reads one fixed
// instant too.
func Offset(base Clock, d time.Duration) Clock { return offsetClock{base: base, by: d} }

type offsetClock struct {
	base Clock
	by   time.Duration
}

func (c offsetClock) Now() time.Time { return c.base.Now().Add(c.by) }
