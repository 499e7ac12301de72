package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clkTck is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat. It is 100 on every Linux architecture Go supports.
const clkTck = 100

// cpuSeconds reads the user+system CPU time of pid from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	utime, stime, err := parseProcStat(data)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	return float64(utime+stime) / clkTck, nil
}

// parseProcStat returns utime and stime (fields 14 and 15, in clock ticks)
// of a /proc/PID/stat line. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseProcStat(data []byte) (utime, stime uint64, err error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, 0, fmt.Errorf("cannot parse /proc stat %q: no command name", truncate(data))
	}
	// After ")": field 3 (state) is rest[0], so field N is rest[N-3].
	rest := bytes.Fields(data[end+1:])
	if len(rest) < 13 {
		return 0, 0, fmt.Errorf("cannot parse /proc stat %q: %d fields after the command", truncate(data), len(rest))
	}
	if utime, err = strconv.ParseUint(string(rest[14-3]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("cannot parse utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(rest[15-3]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("cannot parse stime: %w", err)
	}
	return utime, stime, nil
}

// memStatus is the memory part of /proc/PID/status, in bytes.
type memStatus struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: peak resident
}

// readMemStatus reads /proc/PID/status.
func readMemStatus(pid int) (memStatus, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, fmt.Errorf("read memory status of pid %d: %w", pid, err)
	}
	m, err := parseProcStatus(data)
	if err != nil {
		return memStatus{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return m, nil
}

// parseProcStatus reads VmRSS and VmHWM ("VmHWM:\t  123456 kB").
func parseProcStatus(data []byte) (memStatus, error) {
	var m memStatus
	var found int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte{':'})
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		f := bytes.Fields(val)
		if len(f) != 2 || string(f[1]) != "kB" {
			return m, fmt.Errorf("cannot parse %s line %q", key, sc.Bytes())
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return m, fmt.Errorf("cannot parse %s: %w", key, err)
		}
		*dst = kb * 1024
		found++
	}
	if found != 2 {
		return m, fmt.Errorf("no VmRSS and VmHWM in /proc status (is the process a zombie?)")
	}
	return m, nil
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
