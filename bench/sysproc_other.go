//go:build !linux

package main

import (
	"os"
	"syscall"
)

// sysProcAttr: the harness reads /proc and needs Linux; elsewhere it only
// compiles.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { _ = p.Kill() }
