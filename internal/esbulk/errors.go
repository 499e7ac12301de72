package esbulk

import (
	"strconv"

	"github.com/sluicehq/sluice/internal/event"
)

// Error is an Elasticsearch error object, as Elasticsearch writes an
// exception: {"type", "reason", metadata..., "caused_by"}. It is used both
// for one item of a bulk response (inside the item, next to its status) and
// for a failed request (AppendErrorResponse).
type Error struct {
	// Status is the HTTP status of the item or of the response. It is not
	// part of the object itself.
	Status int
	// Type is the exception name in snake case ("illegal_argument_exception").
	Type string
	// Reason is the message.
	Reason string
	// Meta holds extra members written after reason, in order, as
	// Elasticsearch adds them ("index", "index_uuid", "line", "col" ...).
	Meta []Meta
	// CausedBy is the nested cause, if any.
	CausedBy *Error
}

// Meta is one extra member of an error object. Value is a string, an int,
// an int64 or a bool.
type Meta struct {
	Key   string
	Value any
}

// Error returns "type: reason".
func (e *Error) Error() string { return e.Type + ": " + e.Reason }

// AppendJSON appends the error object (without its status).
func (e *Error) AppendJSON(dst []byte) []byte {
	return e.appendObject(dst, true)
}

func (e *Error) appendObject(dst []byte, cause bool) []byte {
	dst = append(dst, `{"type":`...)
	dst = event.AppendJSONString(dst, e.Type)
	dst = append(dst, `,"reason":`...)
	dst = event.AppendJSONString(dst, e.Reason)
	for _, m := range e.Meta {
		dst = append(dst, ',')
		dst = event.AppendJSONString(dst, m.Key)
		dst = append(dst, ':')
		dst = appendScalar(dst, m.Value)
	}
	if cause && e.CausedBy != nil {
		dst = append(dst, `,"caused_by":`...)
		dst = e.CausedBy.appendObject(dst, true)
	}
	return append(dst, '}')
}

func appendScalar(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return event.AppendJSONString(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case bool:
		return strconv.AppendBool(dst, v)
	case nil:
		return append(dst, "null"...)
	default:
		return event.AppendValueJSON(dst, event.Any(v))
	}
}

// RootCause returns the innermost error of the caused_by chain, which is
// what Elasticsearch reports as the root cause of a failed request.
func (e *Error) RootCause() *Error {
	for e.CausedBy != nil {
		e = e.CausedBy
	}
	return e
}

// AppendErrorResponse appends the body of a failed request as
// Elasticsearch writes it:
//
//	{"error":{"root_cause":[{...}],"type":...,"reason":...,...},"status":400}
func AppendErrorResponse(dst []byte, e *Error) []byte {
	dst = append(dst, `{"error":{"root_cause":[`...)
	dst = e.RootCause().appendObject(dst, false)
	dst = append(dst, "],"...)
	// The error object without its opening brace.
	obj := e.appendObject(nil, true)
	dst = append(dst, obj[1:]...)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	return append(dst, '}')
}

// Errorf-style constructors for the exceptions the bulk API reports.

// IllegalArgument returns an illegal_argument_exception with status 400.
func IllegalArgument(reason string) *Error {
	return &Error{Status: 400, Type: "illegal_argument_exception", Reason: reason}
}

// ParseException returns a parse_exception with status 400 (Elasticsearch
// uses it for "request body is required").
func ParseException(reason string) *Error {
	return &Error{Status: 400, Type: "parse_exception", Reason: reason}
}

// ValidationError returns an action_request_validation_exception with
// status 400 listing the problems as Elasticsearch numbers them:
// "Validation Failed: 1: index is missing;2: ...;".
func ValidationError(problems ...string) *Error {
	b := []byte("Validation Failed: ")
	for i, p := range problems {
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ": "...)
		b = append(b, p...)
		b = append(b, ';')
	}
	return &Error{Status: 400, Type: "action_request_validation_exception", Reason: string(b)}
}

// TooLarge returns the error for a request or an event over a size limit:
// status 413 (Request Entity Too Large).
func TooLarge(reason string) *Error {
	return &Error{Status: 413, Type: "illegal_argument_exception", Reason: reason}
}

// Rejected returns es_rejected_execution_exception with status 429, what
// Elasticsearch answers when it cannot take more writes for now; clients
// retry it.
func Rejected(reason string) *Error {
	return &Error{Status: 429, Type: "es_rejected_execution_exception", Reason: reason}
}
