package app

import "time"

// warnHolidayCoverage logs, at WARN, when the İYS calendar's religious
// holidays run out within a year of now (or have already): past that date
// upload deadlines come out too early, and only an upgrade or
// --iys-holidays fixes it. New has already validated the configuration.
func (a *App) warnHolidayCoverage(now time.Time) {
	opts, err := IYSOptions(a.cfg.IYS)
	if err != nil || opts.Calendar == nil {
		return
	}
	if w := opts.Calendar.ExpiryWarning(now); w != "" {
		a.log.Warn(w, "covered_until", opts.Calendar.CoveredUntil().Format(time.DateOnly))
	}
}
