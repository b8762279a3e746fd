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
// as holidays.
//
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	loc          *time.Location
	days         int
	holidays     map[civil]string
	halfDays     map[civil]string
	halfHolidays bool
	fixed        bool
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

// religiousHolidays are Ramazan Bayramı (3 days) and Kurban Bayramı (4 days),
// with their half-day eves. Source: Diyanet İşleri Başkanlığı's calendars of
// religious days as published in the Turkish press (2025, 2026); the 2027
// dates are the calculated ones, to be checked when Diyanet publishes its
// 2027 calendar. Years after 2027 must be added here or with WithHolidays.
var religiousHolidays = []struct {
	eve   string
	first string
	days  int
	name  string
}{
	{"2025-03-29", "2025-03-30", 3, "Ramazan Bayramı"},
	{"2025-06-05", "2025-06-06", 4, "Kurban Bayramı"},
	{"2026-03-19", "2026-03-20", 3, "Ramazan Bayramı"},
	{"2026-05-26", "2026-05-27", 4, "Kurban Bayramı"},
	{"2027-03-08", "2027-03-09", 3, "Ramazan Bayramı"},
	{"2027-05-15", "2027-05-16", 4, "Kurban Bayramı"},
}

// CalendarOption configures NewCalendar.
type CalendarOption func(*Calendar)

// WithHolidays adds full-day holidays, as "YYYY-MM-DD" dates (for example a
// bridge day the government declares, or a year not built in).
func WithHolidays(dates ...string) CalendarOption {
	return func(c *Calendar) {
		for _, s := range dates {
			t, err := time.ParseInLocation("2006-01-02", s, c.loc)
			if err != nil {
				panic(fmt.Sprintf("iys: WithHolidays: %q is not YYYY-MM-DD", s))
			}
			c.holidays[civilOf(t)] = "configured"
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
// national holidays of every year, and the religious holidays of 2025–2027.
// Options apply in order, so WithoutBuiltinHolidays goes first.
func NewCalendar(opts ...CalendarOption) *Calendar {
	c := &Calendar{loc: istanbul, days: 3, holidays: map[civil]string{}, halfDays: map[civil]string{}, fixed: true}
	for _, r := range religiousHolidays {
		eve, _ := time.ParseInLocation("2006-01-02", r.eve, c.loc)
		first, _ := time.ParseInLocation("2006-01-02", r.first, c.loc)
		c.halfDays[civilOf(eve)] = r.name + " arifesi"
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
