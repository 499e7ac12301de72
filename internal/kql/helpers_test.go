package kql

import "time"

var fixedNow = time.Date(2026, 3, 15, 12, 30, 0, 0, time.UTC)
