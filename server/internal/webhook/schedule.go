package webhook

import "time"

// Schedule is the wait before each attempt of a delivery after its first:
// Schedule[n-1] follows the n-th failed attempt. The first attempt goes at
// once; the last retry leaves about three and a half days after it (the
// sum below), after which the delivery is failed. It is a fixed table, not
// izin's backoff: receivers' operators read it in the README, and a fixed
// table is what they can plan around.
var Schedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

// nextDelay is the wait after the attempts-th failed attempt, and false
// when the schedule is exhausted.
func nextDelay(schedule []time.Duration, attempts int) (time.Duration, bool) {
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	return schedule[attempts-1], true
}
