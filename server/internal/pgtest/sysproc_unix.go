//go:build unix

package pgtest

import (
	"os"
	"syscall"
)

// sysProcAttr runs a child as owner (nil: as ourselves) and, where the OS
// allows, has it shut down when we die, so a killed test binary does not
// leave a server running.
func sysProcAttr(owner *osUser) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if owner != nil {
		// Groups left empty drops root's supplementary groups too.
		a.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	setParentDeathSignal(a)
	return a
}

// canSearch reports whether owner, which runs with no supplementary groups,
// may traverse the directory fi.
func canSearch(fi os.FileInfo, owner *osUser) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // can't tell; let initdb report the problem
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == owner.uid:
		return perm&0o100 != 0
	case st.Gid == owner.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// processAlive reports whether pid exists (EPERM: exists, not ours).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
