//go:build !linux || !(amd64 || arm64)

package disk

import "errors"

func dropFileCache(dir string) error { return errors.New("not supported on this platform") }
