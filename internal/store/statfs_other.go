//go:build !unix

package store

import "errors"

func statfsUsage(string) (used, total uint64, err error) {
	return 0, 0, errors.New("disk usage is not measured on this platform")
}
