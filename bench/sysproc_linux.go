package main

import (
	"os"
	"syscall"
)

// sysProcAttr puts a child in its own process group (so the terminal's
// Ctrl-C reaches only the harness, which stops children in order) and has
// the kernel kill it if the harness dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills p's process group.
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
