package esbulk

import (
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Result is the outcome of one item, given by whoever stored it.
type Result struct {
	// ID is the _id to report when the item had none: the receiver's
	// assigned id. Ignored when the item has an ID.
	ID string
	// Err fails the item. An item with its own Err (from Parse) is
	// answered with that one whatever Result says.
	Err *Error
	// SeqNo is the item's _seq_no.
	SeqNo int64
}

// ResponseOptions adjusts the response.
type ResponseOptions struct {
	// Type7 adds "_type":"_doc" to every item, as Elasticsearch does for
	// clients that ask for version 7 compatibility.
	Type7 bool
	// Shards is the _shards.total and _shards.successful of a stored item
	// (default 1).
	Shards int
}

// HasErrors reports whether any item failed.
func HasErrors(items []Item, results []Result) bool {
	for i := range items {
		if items[i].Err != nil || (i < len(results) && results[i].Err != nil) {
			return true
		}
	}
	return false
}

// AppendResponse appends the _bulk response for items and their results
// (results[i] belongs to items[i]):
//
//	{"errors":false,"took":3,"items":[{"index":{"_index":"logs","_id":"x",
//	 "_version":1,"result":"created","_shards":{"total":1,"successful":1,
//	 "failed":0},"_seq_no":0,"_primary_term":1,"status":201}}]}
//
// A failed item is {"index":{"_index":..,"_id":..,"status":400,"error":{...}}}.
// Elasticsearch 8 writes "errors" before "took"; clients do not care.
func AppendResponse(dst []byte, took time.Duration, items []Item, results []Result, o ResponseOptions) []byte {
	shards := o.Shards
	if shards <= 0 {
		shards = 1
	}
	dst = append(dst, `{"errors":`...)
	dst = strconv.AppendBool(dst, HasErrors(items, results))
	dst = append(dst, `,"took":`...)
	dst = strconv.AppendInt(dst, took.Milliseconds(), 10)
	dst = append(dst, `,"items":[`...)
	for i := range items {
		it := &items[i]
		var res Result
		if i < len(results) {
			res = results[i]
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"`...)
		dst = append(dst, it.Action.String()...)
		dst = append(dst, `":{"_index":`...)
		dst = event.AppendJSONString(dst, it.Index)
		if o.Type7 {
			dst = append(dst, `,"_type":"_doc"`...)
		}
		dst = append(dst, `,"_id":`...)
		id := it.ID
		if id == "" {
			id = res.ID
		}
		if id == "" {
			dst = append(dst, "null"...)
		} else {
			dst = event.AppendJSONString(dst, id)
		}
		err := it.Err
		if err == nil {
			err = res.Err
		}
		if err != nil {
			status := err.Status
			if status == 0 {
				status = 500
			}
			dst = append(dst, `,"status":`...)
			dst = strconv.AppendInt(dst, int64(status), 10)
			dst = append(dst, `,"error":`...)
			dst = err.AppendJSON(dst)
			dst = append(dst, "}}"...)
			continue
		}
		dst = append(dst, `,"_version":1,"result":"created","_shards":{"total":`...)
		dst = strconv.AppendInt(dst, int64(shards), 10)
		dst = append(dst, `,"successful":`...)
		dst = strconv.AppendInt(dst, int64(shards), 10)
		dst = append(dst, `,"failed":0},"_seq_no":`...)
		dst = strconv.AppendInt(dst, res.SeqNo, 10)
		dst = append(dst, `,"_primary_term":1,"status":201}}`...)
	}
	return append(dst, "]}"...)
}
