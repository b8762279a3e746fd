package iys

import (
	"strings"
	"testing"
	"time"
)

// bayramYears are the expected first days per year, written out apart from
// the table in calendar.go so that a slip in either shows.
var bayramYears = []struct {
	year    int
	ramazan []string // 1 Şevval; 2033 has two
	kurban  []string // 10 Zilhicce
}{
	{2025, []string{"2025-03-30"}, []string{"2025-06-06"}},
	{2026, []string{"2026-03-20"}, []string{"2026-05-27"}},
	{2027, []string{"2027-03-09"}, []string{"2027-05-16"}},
	{2028, []string{"2028-02-26"}, []string{"2028-05-05"}},
	{2029, []string{"2029-02-14"}, []string{"2029-04-24"}},
	{2030, []string{"2030-02-04"}, []string{"2030-04-13"}},
	{2031, []string{"2031-01-24"}, []string{"2031-04-02"}},
	{2032, []string{"2032-01-14"}, []string{"2032-03-22"}},
	{2033, []string{"2033-01-02", "2033-12-23"}, []string{"2033-03-11"}},
	{2034, []string{"2034-12-12"}, []string{"2034-03-01"}},
	{2035, []string{"2035-12-01"}, []string{"2035-02-18"}},
	{2036, []string{"2036-11-19"}, []string{"2036-02-08"}},
}

func day(s string) time.Time { return ist(s + " 12:00") }

// refDeadline is a plain second implementation of Deadline: the end of the
// 3rd weekday after given that is not in off.
func refDeadline(given time.Time, off map[string]bool) time.Time {
	d := given
	for n := 0; n < 3; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday && !off[d.Format("2006-01-02")] {
			n++
		}
	}
	y, m, dd := d.Date()
	return time.Date(y, m, dd+1, 0, 0, 0, 0, Istanbul())
}

// expectedOff lists the full-day holidays of the years 2024–2037 from the
// test's own data: the fixed dates and the bayram days of bayramYears.
func expectedOff() map[string]bool {
	off := map[string]bool{}
	for y := 2024; y <= 2037; y++ {
		for _, md := range []string{"01-01", "04-23", "05-01", "05-19", "07-15", "08-30", "10-29"} {
			off[time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006-")+md] = true
		}
	}
	for _, y := range bayramYears {
		for _, f := range y.ramazan {
			for i := 0; i < 3; i++ {
				off[day(f).AddDate(0, 0, i).Format("2006-01-02")] = true
			}
		}
		for _, f := range y.kurban {
			for i := 0; i < 4; i++ {
				off[day(f).AddDate(0, 0, i).Format("2006-01-02")] = true
			}
		}
	}
	return off
}

func TestBayramsEveryYear(t *testing.T) {
	off := expectedOff()
	halfAsHoliday := NewCalendar(WithHalfDaysAsHolidays(true))
	for _, y := range bayramYears {
		type bayram struct {
			first string
			days  int
			name  string
		}
		var all []bayram
		for _, f := range y.ramazan {
			all = append(all, bayram{f, 3, "Ramazan Bayramı"})
		}
		for _, f := range y.kurban {
			all = append(all, bayram{f, 4, "Kurban Bayramı"})
		}
		for _, b := range all {
			t.Run(b.name+" "+b.first, func(t *testing.T) {
				first := day(b.first)
				if first.Year() != y.year {
					t.Fatalf("%s is not in %d", b.first, y.year)
				}
				for i := 0; i < b.days; i++ {
					d := first.AddDate(0, 0, i)
					name, half, ok := DefaultCalendar.Holiday(d)
					if !ok || half || name != b.name {
						t.Errorf("Holiday(%s) = %q, %v, %v; want the full day %q", d.Format("2006-01-02"), name, half, ok, b.name)
					}
					if DefaultCalendar.IsBusinessDay(d) {
						t.Errorf("%s (day %d of %s) counted as a business day", d.Format("2006-01-02"), i+1, b.name)
					}
				}
				if name, _, ok := DefaultCalendar.Holiday(first.AddDate(0, 0, b.days)); ok && name == b.name {
					t.Errorf("%s lasts more than %d days", b.name, b.days)
				}
				eve := first.AddDate(0, 0, -1)
				name, half, ok := DefaultCalendar.Holiday(eve)
				switch {
				case off[eve.Format("2006-01-02")]: // the arife falls on a full holiday (1 January 2033)
					if !ok || half {
						t.Errorf("Holiday(%s) = %q, %v, %v; want a full holiday", eve.Format("2006-01-02"), name, half, ok)
					}
				case !ok || !half || name != b.name+" arifesi":
					t.Errorf("Holiday(%s) = %q, %v, %v; want the half day %q", eve.Format("2006-01-02"), name, half, ok, b.name+" arifesi")
				}

				// A consent given two days before the arife: its deadline
				// skips the whole bayram.
				given := first.AddDate(0, 0, -2)
				got := DefaultCalendar.Deadline(given)
				if want := refDeadline(given, off); !got.Equal(want) {
					t.Errorf("Deadline(%s) = %s, want %s", given.Format("2006-01-02"), got.Format("2006-01-02"), want.Format("2006-01-02"))
				}
				lastEnd := ist(first.AddDate(0, 0, b.days).Format("2006-01-02") + " 00:00")
				if !got.After(lastEnd) {
					t.Errorf("Deadline(%s) = %s, not past the bayram's end %s", given.Format("2006-01-02"), got, lastEnd)
				}
				// Counting the arife as a holiday never brings the deadline earlier.
				if h := halfAsHoliday.Deadline(given); h.Before(got) {
					t.Errorf("half days as holidays: Deadline(%s) = %s, before %s", given.Format("2006-01-02"), h, got)
				}
			})
		}
	}
}

// TestDeadlineAcrossLaterBayrams pins a few deadlines worked out by hand.
func TestDeadlineAcrossLaterBayrams(t *testing.T) {
	halfAsHoliday := NewCalendar(WithHalfDaysAsHolidays(true))
	tests := []struct {
		name  string
		cal   *Calendar
		given string
		want  string // the Istanbul midnight the deadline falls on
	}{
		// Kurban 2028: eve Thu 4 May, Fri 5 – Mon 8 May.
		{"Kurban 2028", DefaultCalendar, "2028-05-03 10:00", "2028-05-11 00:00"},
		{"Kurban 2028, eve as holiday", halfAsHoliday, "2028-05-03 10:00", "2028-05-12 00:00"},
		// Ramazan 2030: eve Sun 3 Feb, Mon 4 – Wed 6 Feb.
		{"Ramazan 2030", DefaultCalendar, "2030-02-01 10:00", "2030-02-12 00:00"},
		// Ramazan 2033: eve 1 January (New Year), Sun 2 – Tue 4 January.
		{"Ramazan 2033 after New Year", DefaultCalendar, "2032-12-31 10:00", "2033-01-08 00:00"},
		// Ramazan 2033 (the second): eve Thu 22 Dec, Fri 23 – Sun 25 Dec.
		{"Ramazan December 2033", DefaultCalendar, "2033-12-21 10:00", "2033-12-28 00:00"},
		// Kurban 2036: eve Thu 7 Feb, Fri 8 – Mon 11 Feb.
		{"Kurban 2036", DefaultCalendar, "2036-02-06 10:00", "2036-02-14 00:00"},
		{"Kurban 2036, eve as holiday", halfAsHoliday, "2036-02-06 10:00", "2036-02-15 00:00"},
		{"Kurban 2036, given on the first day", DefaultCalendar, "2036-02-08 10:00", "2036-02-15 00:00"},
		// Ramazan 2036: eve Tue 18 Nov, Wed 19 – Fri 21 Nov.
		{"Ramazan 2036", DefaultCalendar, "2036-11-17 10:00", "2036-11-26 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.cal.Deadline(ist(tt.given)), ist(tt.want); !got.Equal(want) {
				t.Fatalf("Deadline(%s) = %s, want %s", tt.given, got.In(Istanbul()), want)
			}
		})
	}
}

// TestReligiousTablePlausible checks the built-in table against the lunar
// year: one Hijri year is 354 or 355 days, and 1 Şevval to 10 Zilhicce is
// two months and nine days.
func TestReligiousTablePlausible(t *testing.T) {
	var prev = map[string]time.Time{}
	var lastRamazan time.Time
	years := map[int]map[string]bool{}
	for i, r := range religiousHolidays {
		d := day(r.first)
		if i > 0 && !d.After(day(religiousHolidays[i-1].first)) {
			t.Errorf("%s is out of order", r.first)
		}
		if want := map[string]int{ramazanBayrami: 3, kurbanBayrami: 4}[r.name]; r.days != want {
			t.Errorf("%s %s lasts %d days, want %d", r.name, r.first, r.days, want)
		}
		if p, ok := prev[r.name]; ok {
			if n := daysBetween(civilOf(p), civilOf(d)); n != 354 && n != 355 {
				t.Errorf("%s %s is %d days after the one before; a lunar year is 354 or 355", r.name, r.first, n)
			}
		}
		prev[r.name] = d
		switch r.name {
		case ramazanBayrami:
			lastRamazan = d
		case kurbanBayrami:
			if !lastRamazan.IsZero() {
				if n := daysBetween(civilOf(lastRamazan), civilOf(d)); n < 67 || n > 69 {
					t.Errorf("Kurban %s is %d days after Ramazan %s, want 67–69", r.first, n, lastRamazan.Format("2006-01-02"))
				}
			}
		}
		if years[d.Year()] == nil {
			years[d.Year()] = map[string]bool{}
		}
		years[d.Year()][r.name] = true
		if c := civilOf(d.AddDate(0, 0, r.days-1)); daysBetween(c, builtinCoveredUntil) < 0 {
			t.Errorf("%s %s ends after builtinCoveredUntil %s", r.name, r.first, builtinCoveredUntil)
		}
	}
	for y := 2025; y <= 2036; y++ {
		if !years[y][ramazanBayrami] || !years[y][kurbanBayrami] {
			t.Errorf("%d lacks a bayram: %v", y, years[y])
		}
	}
}

func TestHalfDaysEveryYear(t *testing.T) {
	halfAsHoliday := NewCalendar(WithHalfDaysAsHolidays(true))
	for y := 2025; y <= 2036; y++ {
		oct28 := time.Date(y, time.October, 28, 12, 0, 0, 0, Istanbul())
		if name, half, ok := DefaultCalendar.Holiday(oct28); !ok || !half || name != "Cumhuriyet Bayramı arifesi" {
			t.Errorf("Holiday(%d-10-28) = %q, %v, %v; want the half day before Cumhuriyet Bayramı", y, name, half, ok)
		}
		weekday := oct28.Weekday() != time.Saturday && oct28.Weekday() != time.Sunday
		if got := DefaultCalendar.IsBusinessDay(oct28); got != weekday {
			t.Errorf("IsBusinessDay(%d-10-28) = %v, want %v (a half day counts by default)", y, got, weekday)
		}
		if halfAsHoliday.IsBusinessDay(oct28) {
			t.Errorf("half days as holidays: %d-10-28 is a business day", y)
		}
		dec31 := time.Date(y, time.December, 31, 12, 0, 0, 0, Istanbul())
		if name, half, ok := DefaultCalendar.Holiday(dec31); ok {
			t.Errorf("Holiday(%d-12-31) = %q, %v, true; 31 December is no holiday, not even half", y, name, half)
		}
		weekday = dec31.Weekday() != time.Saturday && dec31.Weekday() != time.Sunday
		if got := halfAsHoliday.IsBusinessDay(dec31); got != weekday {
			t.Errorf("half days as holidays: IsBusinessDay(%d-12-31) = %v, want %v", y, got, weekday)
		}
	}
}

func TestCoveredUntil(t *testing.T) {
	tests := []struct {
		name string
		cal  *Calendar
		want string // "" for the zero time
	}{
		{"built-in", DefaultCalendar, "2036-12-31"},
		{"a bridge day inside the table", NewCalendar(WithHolidays("2030-04-12")), "2036-12-31"},
		{"a later year given", NewCalendar(WithHolidays("2037-01-26", "2038-01-16")), "2038-12-31"},
		{"without built-ins", NewCalendar(WithoutBuiltinHolidays()), ""},
		{"without built-ins, later holidays given", NewCalendar(WithoutBuiltinHolidays(), WithHolidays("2040-01-01")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.CoveredUntil()
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("CoveredUntil() = %s, want the zero time", got)
				}
				return
			}
			if want := ist(tt.want + " 00:00"); !got.Equal(want) || got.Location() != Istanbul() {
				t.Fatalf("CoveredUntil() = %s, want %s", got, want)
			}
		})
	}
}

func TestExpiryWarning(t *testing.T) {
	bare := NewCalendar(WithoutBuiltinHolidays())
	extended := NewCalendar(WithHolidays("2037-01-26"))
	tests := []struct {
		name string
		cal  *Calendar
		now  time.Time
		want []string // substrings; nil for no warning
	}{
		{"years left", DefaultCalendar, ist("2026-12-03 12:00"), nil},
		{"366 days left", DefaultCalendar, ist("2035-12-31 12:00"), nil},
		{"365 days left", DefaultCalendar, ist("2036-01-01 00:00"), nil},
		{"364 days left", DefaultCalendar, ist("2036-01-02 00:00"), []string{"2036-12-31", "364 days", "upgrade izin", "--iys-holidays"}},
		{"UTC evening is the next Istanbul day", DefaultCalendar, time.Date(2036, 1, 1, 22, 0, 0, 0, time.UTC), []string{"364 days"}},
		{"last covered day", DefaultCalendar, ist("2036-12-31 23:00"), []string{"2036-12-31", "0 days"}},
		{"coverage ended", DefaultCalendar, ist("2037-01-01 00:00"), []string{"2036-12-31", "has passed", "upgrade izin", "--iys-holidays"}},
		{"extended by configured holidays", extended, ist("2036-06-01 12:00"), nil},
		{"extended, then ending", extended, ist("2037-06-01 12:00"), []string{"2037-12-31"}},
		{"without built-ins", bare, ist("2040-01-01 12:00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.ExpiryWarning(tt.now)
			if tt.want == nil {
				if got != "" {
					t.Fatalf("ExpiryWarning(%s) = %q, want none", tt.now, got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("ExpiryWarning(%s) = %q, want it to say %q", tt.now, got, w)
				}
			}
		})
	}
}
