package iyssync

import (
	"time"

	"github.com/izinhq/izin/server/internal/iys"
)

// Deadlines tells, for a moment, which consent times are past İYS's
// 3-business-day limit and which are within one business day of it.
//
// İYS's deadline depends only on the Istanbul date a consent was given, and
// a later date never has an earlier deadline, so both sets are consent
// times before a threshold:
//   - overdue: given before OverdueBefore (Calendar.Late is true now);
//   - near: given at or after OverdueBefore and before NearBefore, i.e. not
//     late now but late at the same time on the next business day.
type Deadlines struct {
	OverdueBefore time.Time
	NearBefore    time.Time
}

// DeadlinesAt computes the thresholds at now.
func DeadlinesAt(cal *iys.Calendar, now time.Time) Deadlines {
	return Deadlines{OverdueBefore: lateBoundary(cal, now), NearBefore: lateBoundary(cal, nextBusinessDay(cal, now))}
}

// Near reports whether a consent given at given is near its deadline.
func (d Deadlines) Near(given time.Time) bool {
	return !given.Before(d.OverdueBefore) && given.Before(d.NearBefore)
}

// Overdue reports whether a consent given at given is past its deadline.
func (d Deadlines) Overdue(given time.Time) bool { return given.Before(d.OverdueBefore) }

// lateBoundary returns the start of the earliest Istanbul day whose consents
// are not yet late at now.
func lateBoundary(cal *iys.Calendar, now time.Time) time.Time {
	loc := iys.Istanbul()
	y, m, dd := now.In(loc).Date()
	day := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	// A consent given today is never late today; step back while the day
	// before is not late either. Holidays stretch this to a few weeks at
	// most; the bound only guards against a misconfigured calendar.
	for i := 0; i < 60; i++ {
		prev := day.AddDate(0, 0, -1)
		if cal.Late(prev, now) {
			break
		}
		day = prev
	}
	return day
}

// nextBusinessDay returns the same clock time on the next business day.
func nextBusinessDay(cal *iys.Calendar, now time.Time) time.Time {
	loc := iys.Istanbul()
	t := now.In(loc)
	for i := 0; i < 60; i++ {
		t = t.AddDate(0, 0, 1)
		if cal.IsBusinessDay(t) {
			break
		}
	}
	return t
}
