package expr

import (
	"errors"

	"github.com/expr-lang/expr/file"
)

func fileErrorParts(err error) (line, col int, msg string, ok bool) {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Line, fe.Column, fe.Message, true
	}
	return 0, 0, "", false
}
