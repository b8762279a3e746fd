package iys

import (
	"testing"
	"time"
)

func ist(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Istanbul())
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadline(t *testing.T) {
	halfAsHoliday := NewCalendar(WithHalfDaysAsHolidays(true))
	extra := NewCalendar(WithHolidays("2025-01-14"))
	tests := []struct {
		name  string
		cal   *Calendar
		given time.Time
		want  string // the Istanbul midnight the deadline falls on
	}{
		{"plain week: Monday -> end of Thursday", DefaultCalendar, ist("2025-01-06 10:00"), "2025-01-10 00:00"},
		{"Friday spans the weekend", DefaultCalendar, ist("2025-01-10 15:00"), "2025-01-16 00:00"},
		{"given on Saturday", DefaultCalendar, ist("2025-01-11 09:00"), "2025-01-16 00:00"},
		{"given on Sunday at 23:59", DefaultCalendar, ist("2025-01-12 23:59"), "2025-01-16 00:00"},
		{"UTC Friday night is Istanbul Saturday", DefaultCalendar, time.Date(2025, 1, 10, 22, 30, 0, 0, time.UTC), "2025-01-16 00:00"},
		{"configured holiday is skipped", extra, ist("2025-01-10 15:00"), "2025-01-17 00:00"},
		// Kurban Bayramı 2025: eve Thu 5 June (half day), Fri 6 – Mon 9 June.
		{"Kurban 2025, eve counts as business day", DefaultCalendar, ist("2025-06-02 10:00"), "2025-06-06 00:00"},
		{"Kurban 2025, eve counts as holiday", halfAsHoliday, ist("2025-06-02 10:00"), "2025-06-11 00:00"},
		{"Kurban 2025, given on the eve", DefaultCalendar, ist("2025-06-05 11:00"), "2025-06-13 00:00"},
		{"Kurban 2025, given during the bayram", DefaultCalendar, ist("2025-06-07 12:00"), "2025-06-13 00:00"},
		// Ramazan Bayramı 2025: eve Sat 29 March, Sun 30 March – Tue 1 April.
		{"Ramazan 2025 over a weekend", DefaultCalendar, ist("2025-03-28 17:00"), "2025-04-05 00:00"},
		// Ramazan Bayramı 2026: eve Thu 19 March, Fri 20 – Sun 22 March.
		{"Ramazan 2026", DefaultCalendar, ist("2026-03-18 09:00"), "2026-03-25 00:00"},
		// Kurban Bayramı 2026: eve Tue 26 May, Wed 27 – Sat 30 May; 19 May is a holiday too.
		{"Kurban 2026 bayram week", DefaultCalendar, ist("2026-05-25 09:00"), "2026-06-03 00:00"},
		{"19 May 2026 (Tuesday)", DefaultCalendar, ist("2026-05-18 09:00"), "2026-05-23 00:00"},
		// Republic Day 2025: 28 Oct (Tue) half day, 29 Oct (Wed) holiday.
		{"Republic Day 2025", DefaultCalendar, ist("2025-10-27 09:00"), "2025-11-01 00:00"},
		{"Republic Day 2025, half day as holiday", halfAsHoliday, ist("2025-10-27 09:00"), "2025-11-04 00:00"},
		// Ramazan Bayramı 2027: eve Mon 8 March, Tue 9 – Thu 11 March.
		{"Ramazan 2027", DefaultCalendar, ist("2027-03-05 09:00"), "2027-03-16 00:00"},
		{"New Year 2027 (Friday)", DefaultCalendar, ist("2026-12-30 09:00"), "2027-01-06 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Deadline(tt.given)
			if want := ist(tt.want); !got.Equal(want) {
				t.Fatalf("Deadline(%s) = %s, want %s", tt.given, got.In(Istanbul()), want)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	tests := []struct {
		day  string
		want bool
	}{
		{"2025-01-01 12:00", false}, // New Year
		{"2025-01-02 12:00", true},
		{"2025-01-04 12:00", false}, // Saturday
		{"2025-04-23 12:00", false},
		{"2025-05-01 12:00", false},
		{"2025-05-19 12:00", false},
		{"2025-06-05 12:00", true}, // Kurban eve: half day, a business day by default
		{"2025-06-06 12:00", false},
		{"2025-06-09 12:00", false},
		{"2025-06-10 12:00", true},
		{"2025-07-15 12:00", false},
		{"2025-08-29 12:00", true},
		{"2025-10-28 12:00", true}, // half day
		{"2025-10-29 12:00", false},
		{"2026-03-20 12:00", false},
		{"2026-05-27 12:00", false},
		{"2027-05-17 12:00", false}, // Kurban 2027
		{"2027-05-20 12:00", true},
	}
	for _, tt := range tests {
		if got := DefaultCalendar.IsBusinessDay(ist(tt.day)); got != tt.want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
}

func TestRemainingAndLate(t *testing.T) {
	given := ist("2025-01-06 10:00") // Monday; deadline Friday 00:00
	tests := []struct {
		now  string
		want time.Duration
		late bool
	}{
		{"2025-01-06 10:00", 86 * time.Hour, false},
		{"2025-01-09 23:00", time.Hour, false},
		{"2025-01-10 00:00", 0, true},
		{"2025-01-10 06:00", -6 * time.Hour, true},
	}
	for _, tt := range tests {
		if got := DefaultCalendar.Remaining(given, ist(tt.now)); got != tt.want {
			t.Errorf("Remaining at %s = %s, want %s", tt.now, got, tt.want)
		}
		if got := DefaultCalendar.Late(given, ist(tt.now)); got != tt.late {
			t.Errorf("Late at %s = %v, want %v", tt.now, got, tt.late)
		}
	}
}

func TestCalendarOptions(t *testing.T) {
	bare := NewCalendar(WithoutBuiltinHolidays())
	if !bare.IsBusinessDay(ist("2025-01-01 12:00")) {
		t.Error("without built-ins, 1 January should be a business day")
	}
	if bare.IsBusinessDay(ist("2025-01-04 12:00")) {
		t.Error("weekends stay non-business days")
	}
	five := NewCalendar(WithBusinessDays(5))
	if got, want := five.Deadline(ist("2025-01-06 10:00")), ist("2025-01-14 00:00"); !got.Equal(want) {
		t.Errorf("5 business days: %s, want %s", got, want)
	}
	if name, half, ok := DefaultCalendar.Holiday(ist("2026-05-26 08:00")); !ok || !half || name == "" {
		t.Errorf("Holiday(2026-05-26) = %q, %v, %v; want a half day", name, half, ok)
	}
}
