//go:build race

package e2e

// raceEnabled: the race detector slows the pure-Go SQLite about twentyfold,
// so the volume tests shrink under it.
const raceEnabled = true
