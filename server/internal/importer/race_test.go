//go:build race

package importer_test

// raceEnabled: the race detector slows the pure-Go SQLite about twentyfold.
const raceEnabled = true
