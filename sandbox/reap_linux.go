package sandbox

import (
	"errors"
	"syscall"
	"time"
)

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// adoptOrphans makes this process the parent of descendants whose own
// parent exits — the postmaster, once pg_ctl has started it and gone — so
// that Stop can reap it. Otherwise it would be reparented to PID 1, which in
// some containers never reaps, leaving a defunct postgres behind.
func adoptOrphans() {
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// reap collects the exit status of pid if it is our child (an adopted
// postmaster), waiting up to d for it to exit.
func reap(pid int, d time.Duration) {
	if pid <= 0 {
		return
	}
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid || errors.Is(err, syscall.ECHILD) || (err != nil && !errors.Is(err, syscall.EINTR)) || time.Now().After(end) {
			return
		}
	}
}
