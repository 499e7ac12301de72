package file

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// pathResolver turns rendered path templates into clean absolute paths and
// keeps event data from steering writes outside the directory the operator
// wrote in the config.
type pathResolver struct {
	// abs reports whether the template's static text makes it absolute;
	// otherwise every rendered path is joined under dataDir, so event data
	// cannot make a path absolute.
	abs     bool
	dataDir string
	// root is the clean directory every rendered path must stay below: the
	// template's static text up to its last '/' before the first %{.
	root string
}

func newPathResolver(tmpl, dataDir string) pathResolver {
	prefix := tmpl
	if i := strings.Index(tmpl, "%{"); i >= 0 {
		// An escaped "%%{" also ends the prefix; a shorter prefix is only
		// a looser, still static, bound.
		prefix = tmpl[:i]
	}
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i+1]
	}
	// Compare absolute paths: a relative data directory ("." or
	// "./sluice-data") would otherwise clean away its own prefix.
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	r := pathResolver{abs: filepath.IsAbs(tmpl), dataDir: dataDir}
	if r.abs {
		r.root = filepath.Clean(dir)
	} else {
		r.root = filepath.Join(dataDir, dir)
	}
	return r
}

// errBadPath marks a rendered path that no retry can make valid.
var errBadPath = errors.New("invalid rendered path")

// resolve returns the clean absolute path for the rendered template p, or an
// error wrapping errBadPath.
func (r *pathResolver) resolve(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("%w: path template rendered an empty path (are the fields it uses missing?)", errBadPath)
	case strings.IndexByte(p, 0) >= 0:
		return "", fmt.Errorf("%w: %q contains a NUL byte", errBadPath, p)
	case strings.HasSuffix(p, "/"):
		return "", fmt.Errorf("%w: %q ends in / and names a directory (is the file name field missing?)", errBadPath, p)
	}
	var full string
	if r.abs {
		full = filepath.Clean(p)
	} else {
		full = filepath.Join(r.dataDir, p)
	}
	if !within(r.root, full) {
		return "", fmt.Errorf("%w: %q leaves directory %s (event data with .. segments?)", errBadPath, p, r.root)
	}
	return full, nil
}

// within reports whether the clean path p is strictly below the clean
// directory root.
func within(root, p string) bool {
	if root == "/" {
		return len(p) > 1 && p[0] == '/'
	}
	return len(p) > len(root)+1 && p[len(root)] == '/' && strings.HasPrefix(p, root)
}

// rotatedName returns the name of the n-th rotated copy of path, the way
// logrotate names it: app.log.1, or app.log.1.gz for a gzip file.
func rotatedName(path string, n int) string {
	if base, ok := strings.CutSuffix(path, ".gz"); ok {
		return base + "." + strconv.Itoa(n) + ".gz"
	}
	return path + "." + strconv.Itoa(n)
}
