package iys

import (
	"fmt"
	"time"
)

// Calendar counts business days in Turkey: Monday to Friday, except public
// holidays. İYS refuses a consent more than 3 business days old; Deadline
// says until when one may still be uploaded.
//
// Half days (arife, the eve of a religious holiday, and 28 October) are
// business days by default: offices work in the morning, and counting them
// gives the earlier, safer deadline. WithHalfDaysAsHolidays(true) counts them
// as holidays. 31 December is a full business day: only 1 January is off.
//
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	loc          *time.Location
	days         int
	holidays     map[civil]string
	halfDays     map[civil]string
	halfHolidays bool
	fixed        bool
	covered      civil // last date with known religious holidays; zero: not applicable
}

type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil { y, m, d := t.Date(); return civil{y, m, d} }

func (c civil) String() string { return fmt.Sprintf("%04d-%02d-%02d", c.y, c.m, c.d) }

// fixedHolidays are the national holidays with the same date every year
// (Law 2429 on national holidays and general holidays).
var fixedHolidays = []struct {
	m    time.Month
	d    int
	name string
}{
	{time.January, 1, "Yılbaşı"},
	{time.April, 23, "Ulusal Egemenlik ve Çocuk Bayramı"},
	{time.May, 1, "Emek ve Dayanışma Günü"},
	{time.May, 19, "Atatürk'ü Anma, Gençlik ve Spor Bayramı"},
	{time.July, 15, "Demokrasi ve Milli Birlik Günü"},
	{time.August, 30, "Zafer Bayramı"},
	{time.October, 29, "Cumhuriyet Bayramı"},
}

// religiousHolidays are the first days of Ramazan Bayramı (1 Şevval, 3 days)
// and Kurban Bayramı (10 Zilhicce, 4 days); the arife, the day before each,
// is a half day. Turkey takes these dates from Diyanet İşleri Başkanlığı,
// which fixes the Hijri months by calculation, not sighting, so they are
// known years ahead. Sources, by year:
//
//   - 2025, 2026: Diyanet's published calendars of religious days (dini
//     günler takvimi).
//   - 2027–2032: Diyanet's Hijri-to-Gregorian conversion tables (its vakit
//     hesaplama service); for 2030 also its Din İşleri Yüksek Kurulu's
//     statement that Ramazan begins on 5 January and on 26 December 2030.
//   - 2033–2036: not published yet; calculated with the rule Diyanet applies
//     (the 2016 Istanbul congress on a unified Hijri calendar), geocentric:
//     a month begins the next day when, at a sunset before 00:00 UTC
//     anywhere, the Moon stands at least 5° above the horizon and 8° from
//     the Sun, or when that holds on the American mainland and the
//     conjunction fell before dawn in New Zealand. That calculation gives
//     Diyanet's dates for 2017–2032 but one (Kurban 2032, conjunction
//     minutes before the New Zealand dawn; Diyanet's date is kept). Kurban
//     Bayramı 2036 is a close call: on 28 January 2036 the rule is met only
//     on the Aleutian Islands and Hawaii, which Diyanet did not count for
//     Ramazan 2026 (it began on 19 February, not the 18th), so the month
//     begins a day later and the bayram on 8 February.
//
// Check each year here when Diyanet publishes its calendar. Later years must
// be added here (and builtinCoveredUntil moved) or given with WithHolidays.
var religiousHolidays = []struct {
	first string
	days  int
	name  string
}{
	{"2025-03-30", 3, ramazanBayrami},
	{"2025-06-06", 4, kurbanBayrami},
	{"2026-03-20", 3, ramazanBayrami},
	{"2026-05-27", 4, kurbanBayrami},
	{"2027-03-09", 3, ramazanBayrami},
	{"2027-05-16", 4, kurbanBayrami},
	{"2028-02-26", 3, ramazanBayrami},
	{"2028-05-05", 4, kurbanBayrami},
	{"2029-02-14", 3, ramazanBayrami},
	{"2029-04-24", 4, kurbanBayrami},
	{"2030-02-04", 3, ramazanBayrami},
	{"2030-04-13", 4, kurbanBayrami},
	{"2031-01-24", 3, ramazanBayrami},
	{"2031-04-02", 4, kurbanBayrami},
	{"2032-01-14", 3, ramazanBayrami},
	{"2032-03-22", 4, kurbanBayrami},
	{"2033-01-02", 3, ramazanBayrami}, // its arife is 1 January, a full holiday anyway
	{"2033-03-11", 4, kurbanBayrami},
	{"2033-12-23", 3, ramazanBayrami}, // a second Ramazan Bayramı in 2033
	{"2034-03-01", 4, kurbanBayrami},
	{"2034-12-12", 3, ramazanBayrami},
	{"2035-02-18", 4, kurbanBayrami},
	{"2035-12-01", 3, ramazanBayrami},
	{"2036-02-08", 4, kurbanBayrami},
	{"2036-11-19", 3, ramazanBayrami},
}

const (
	ramazanBayrami = "Ramazan Bayramı"
	kurbanBayrami  = "Kurban Bayramı"
)

// builtinCoveredUntil is the last date whose religious holidays the table
// above settles: the next bayram after it is Kurban Bayramı 2037 (late
// January).
var builtinCoveredUntil = civil{2036, time.December, 31}

// CalendarOption configures NewCalendar.
type CalendarOption func(*Calendar)

// WithHolidays adds full-day holidays, as "YYYY-MM-DD" dates (for example a
// bridge day the government declares, or a year not built in). A date in a
// year after CoveredUntil extends it to the end of that year: whoever passes
// a later year's bayrams has taken that year in hand.
func WithHolidays(dates ...string) CalendarOption {
	return func(c *Calendar) {
		for _, s := range dates {
			t, err := time.ParseInLocation("2006-01-02", s, c.loc)
			if err != nil {
				panic(fmt.Sprintf("iys: WithHolidays: %q is not YYYY-MM-DD", s))
			}
			d := civilOf(t)
			c.holidays[d] = "configured"
			if c.covered != (civil{}) && d.y > c.covered.y {
				c.covered = civil{d.y, time.December, 31}
			}
		}
	}
}

// WithHalfDays adds half-day holidays (eves), as "YYYY-MM-DD" dates.
func WithHalfDays(dates ...string) CalendarOption {
	return func(c *Calendar) {
		for _, s := range dates {
			t, err := time.ParseInLocation("2006-01-02", s, c.loc)
			if err != nil {
				panic(fmt.Sprintf("iys: WithHalfDays: %q is not YYYY-MM-DD", s))
			}
			c.halfDays[civilOf(t)] = "configured"
		}
	}
}

// WithHalfDaysAsHolidays makes half days count as holidays.
func WithHalfDaysAsHolidays(on bool) CalendarOption {
	return func(c *Calendar) { c.halfHolidays = on }
}

// WithoutBuiltinHolidays drops the built-in Turkish holidays (weekends still
// count), leaving only those given with WithHolidays.
func WithoutBuiltinHolidays() CalendarOption {
	return func(c *Calendar) {
		c.holidays = map[civil]string{}
		c.halfDays = map[civil]string{}
		c.fixed = false
		c.covered = civil{}
	}
}

// WithBusinessDays sets how many business days Deadline allows (default 3).
func WithBusinessDays(n int) CalendarOption {
	return func(c *Calendar) {
		if n < 1 {
			panic("iys: WithBusinessDays: n must be at least 1")
		}
		c.days = n
	}
}

// NewCalendar returns the Turkish business-day calendar: weekends, the fixed
// national holidays of every year, and the religious holidays of 2025–2036.
// Options apply in order, so WithoutBuiltinHolidays goes first.
func NewCalendar(opts ...CalendarOption) *Calendar {
	c := &Calendar{loc: istanbul, days: 3, holidays: map[civil]string{}, halfDays: map[civil]string{},
		fixed: true, covered: builtinCoveredUntil}
	for _, r := range religiousHolidays {
		first, err := time.ParseInLocation("2006-01-02", r.first, c.loc)
		if err != nil {
			panic(fmt.Sprintf("iys: religious holiday %q is not YYYY-MM-DD", r.first))
		}
		c.halfDays[civilOf(first.AddDate(0, 0, -1))] = r.name + " arifesi"
		for i := 0; i < r.days; i++ {
			c.holidays[civilOf(first.AddDate(0, 0, i))] = r.name
		}
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// DefaultCalendar is NewCalendar() with no options.
var DefaultCalendar = NewCalendar()

// Holiday returns the name of the holiday on t's Istanbul date, if any.
// Half days are reported with half == true.
func (c *Calendar) Holiday(t time.Time) (name string, half, ok bool) {
	d := civilOf(t.In(c.loc))
	if n, ok := c.holidays[d]; ok {
		return n, false, true
	}
	if c.fixed {
		for _, f := range fixedHolidays {
			if d.m == f.m && d.d == f.d {
				return f.name, false, true
			}
		}
		if d.m == time.October && d.d == 28 {
			return "Cumhuriyet Bayramı arifesi", true, true
		}
	}
	if n, ok := c.halfDays[d]; ok {
		return n, true, true
	}
	return "", false, false
}

// IsBusinessDay reports whether t's Istanbul date is a business day.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	t = t.In(c.loc)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, half, ok := c.Holiday(t)
	if !ok {
		return true
	}
	return half && !c.halfHolidays
}

// startOfDay returns midnight at the start of t's Istanbul date.
func (c *Calendar) startOfDay(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// Deadline returns the end of the 3rd business day after the day the consent
// was given (days counted in Istanbul time): the midnight at which that day
// ends. A consent given on Monday may be uploaded until Thursday 24:00 when
// no holiday intervenes; one given on a Saturday, until Wednesday 24:00. An
// upload at or after Deadline is late, and İYS refuses it (H467).
func (c *Calendar) Deadline(given time.Time) time.Time {
	day := c.startOfDay(given)
	for n := 0; n < c.days; {
		day = day.AddDate(0, 0, 1)
		if c.IsBusinessDay(day) {
			n++
		}
	}
	return day.AddDate(0, 0, 1)
}

// Remaining returns how long is left at now to upload a consent given at
// given; negative when the deadline has passed.
func (c *Calendar) Remaining(given, now time.Time) time.Duration {
	return c.Deadline(given).Sub(now)
}

// Late reports whether, at now, the consent given at given can no longer be
// uploaded.
func (c *Calendar) Late(given, now time.Time) bool { return !now.Before(c.Deadline(given)) }

// CoveredUntil returns the last date (Istanbul midnight) for which the
// calendar knows the religious holidays: 2036-12-31 for the built-in table,
// or the end of the latest year given with WithHolidays if later. After it,
// Ramazan and Kurban Bayramı count as business days, so deadlines come out
// too early. It is the zero time, meaning "not applicable", for a calendar
// WithoutBuiltinHolidays: that one knows only the holidays it was given.
func (c *Calendar) CoveredUntil() time.Time {
	if c.covered == (civil{}) {
		return time.Time{}
	}
	return time.Date(c.covered.y, c.covered.m, c.covered.d, 0, 0, 0, 0, c.loc)
}

// expiryNotice is how long before CoveredUntil ExpiryWarning speaks up: a
// year leaves time for a release, or for Diyanet's next calendar.
const expiryNotice = 365

// ExpiryWarning returns, for an operator's log, a warning when at now fewer
// than 365 days are left until CoveredUntil, or it has passed; "" otherwise,
// and always for a calendar without a CoveredUntil.
func (c *Calendar) ExpiryWarning(now time.Time) string {
	until := c.CoveredUntil()
	if until.IsZero() {
		return ""
	}
	left := daysBetween(civilOf(now.In(c.loc)), c.covered)
	const fix = "; upgrade izin, or pass the holidays of the years after it with --iys-holidays (YYYY-MM-DD, comma-separated)"
	switch {
	case left >= expiryNotice:
		return ""
	case left < 0:
		return fmt.Sprintf("İYS holiday calendar: the religious holidays (Ramazan and Kurban Bayramı) are known only until %s, "+
			"which has passed: upload deadlines now count them as business days and come out too early%s", c.covered, fix)
	default:
		return fmt.Sprintf("İYS holiday calendar: the religious holidays (Ramazan and Kurban Bayramı) are known only until %s, "+
			"%d days from now: after it upload deadlines will count them as business days and come out too early%s", c.covered, left, fix)
	}
}

// daysBetween counts the days from a to b (negative when b is earlier).
func daysBetween(a, b civil) int {
	ta := time.Date(a.y, a.m, a.d, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.y, b.m, b.d, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}
