package pgtest

import "syscall"

// setParentDeathSignal makes the kernel send SIGQUIT (PostgreSQL's
// "immediate shutdown") to the child when the test binary dies. Go applies
// it after the credential switch, which would otherwise clear it.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGQUIT }
