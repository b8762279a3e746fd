//go:build unix && !linux

package pgtest

import "syscall"

// setParentDeathSignal is a no-op without Linux's Pdeathsig; a killed test
// binary's server is then stopped by the next run's cleanupStale.
func setParentDeathSignal(*syscall.SysProcAttr) {}
