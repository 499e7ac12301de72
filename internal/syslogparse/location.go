package syslogparse

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// LoadLocation parses a time zone option, as the syslog source and the
// syslog and timestamp functions take it: an IANA name ("Europe/Berlin"),
// "Local", "UTC" (also "" and "Z") or a fixed offset ("+02:00", "-0530",
// "+03").
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "", "UTC", "utc", "Z":
		return time.UTC, nil
	case "Local", "local":
		return time.Local, nil
	}
	if name[0] == '+' || name[0] == '-' {
		rest := name[1:]
		switch {
		case len(rest) == 2:
			rest += "00"
		case len(rest) == 5 && rest[2] == ':':
			rest = rest[:2] + rest[3:]
		}
		n, err := strconv.Atoi(rest)
		if err != nil || len(rest) != 4 || rest[0] == '+' || rest[0] == '-' || n/100 > 23 || n%100 > 59 {
			return nil, fmt.Errorf("invalid offset %q (use e.g. +02:00)", name)
		}
		secs := (n/100*60 + n%100) * 60
		if name[0] == '-' {
			secs = -secs
		}
		return time.FixedZone(name, secs), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		msg := fmt.Sprintf("unknown time zone %q (use an IANA name like Europe/Berlin, Local, UTC or an offset like +02:00)", name)
		if err.Error() != "unknown time zone "+name {
			// Not a plain unknown name (no tzdata, say): keep the cause.
			return nil, fmt.Errorf("%s: %w", msg, err)
		}
		return nil, errors.New(msg)
	}
	return loc, nil
}
