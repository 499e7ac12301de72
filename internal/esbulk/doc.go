// Package esbulk parses Elasticsearch _bulk request bodies into events and
// writes the _bulk response, with the shapes Elasticsearch 8 uses, so that
// Filebeat, Logstash, Fluent Bit, Vector and the official clients can write
// to Sluice as they write to Elasticsearch. It knows nothing of where events
// go: the store's Elasticsearch API and the worker's elastic source both use
// it.
//
// A request is read with ReadBody (gzip, deflate or zstd, bounded by a
// byte limit), parsed with a Parser into Items (one per action: its action,
// index, optional _id and event, or its own error), and answered with
// AppendResponse from one Result per item.
//
// # Request format
//
// The body is NDJSON: an action/metadata line, then (except for delete) a
// source line, each ending in '\n' ('\r\n' works too):
//
//	{"index":{"_index":"logs","_id":"1"}}
//	{"@timestamp":"2026-01-02T10:00:00Z","message":"hello"}
//	{"create":{}}
//	{"message":"uses the index of the URL, /logs/_bulk"}
//
// index and create store the document. delete and update are parsed (an
// update consumes its source line) and each gets its own error, "not
// supported", without failing the others. The action line accepts the
// parameters Elasticsearch accepts (_index, _id, routing, pipeline,
// op_type, version, if_seq_no, require_alias, dynamic_templates, ...); all
// but _index, _id and op_type are ignored. _type is accepted and ignored
// too: Elasticsearch 8 rejects it, but older shippers (Fluent Bit's
// default configuration among them) still send it.
//
// # Errors
//
// As in Elasticsearch, a malformed action line fails the whole request
// (400, illegal_argument_exception, or x_content_parse_exception for invalid
// JSON), as do a body that does not end in a newline, an item without an
// index, an empty or too long _id, and a request without items
// (action_request_validation_exception). A bad source line fails only its
// item: invalid JSON or a value that is not an object is a
// document_parsing_exception (400, the name Elasticsearch uses since 8.8;
// earlier versions said mapper_parsing_exception), an event over the size
// limit an illegal_argument_exception with status 413, and, with
// Options.StrictTimestamp, an @timestamp that is not a date a
// document_parsing_exception as a date mapping would give.
//
// # Memory
//
// Events and IDs point into the body (see jsonparse's memory contract): the
// caller must not modify or reuse the body while they live.
package esbulk
