// Package esapi serves an Elasticsearch-compatible REST API (port 9200 in
// Sluice's contract) over a Backend: enough of Elasticsearch 8 that
// Filebeat, Logstash, Fluent Bit, Vector and the official clients write to
// Sluice as they write to Elasticsearch, and that simple searches work.
//
// Every response carries X-Elastic-Product: Elasticsearch (the official
// clients refuse servers without it). Requests may use the
// application/vnd.elasticsearch+json;compatible-with=8 (or 7) media types;
// responses then use the same one, and version 7 compatibility adds
// "_type":"_doc" to document responses. Errors have Elasticsearch's shape
// ({"error":{"root_cause":[...],"type","reason",...},"status"}), unknown
// paths and methods its plain-string answers. Bodies may be gzip, deflate
// or zstd; responses are gzipped for clients that accept it. The pretty
// and filter_path parameters work on every JSON response.
//
// # Endpoints
//
//	GET|HEAD /                          cluster info (version 8.17.0) / ping
//	POST|PUT /_bulk, /{index}/_bulk     index and create (delete and update fail per item)
//	POST /{index}/_doc                  index a document (the id is generated and stored)
//	PUT|POST /{index}/_doc/{id}         index with an id
//	PUT|POST /{index}/_create/{id}      create with an id
//	GET|HEAD /{index}/_doc/{id}         get by id (when the Backend is a DocGetter)
//	GET /{index}/_source/{id}           the document's source
//	GET|POST /_search, /{index}/_search search (see below)
//	GET|POST /_count, /{index}/_count   count
//	GET|POST /_msearch, /{index}/_msearch  several searches (Grafana uses it)
//	PUT /{index}                        create an index (settings and mappings accepted, not applied)
//	DELETE /{index}                     delete indices (comma list; no wildcards, as ES 8 by default)
//	HEAD /{index}, GET /{index}         exists / settings
//	GET|POST /_refresh, /{index}/_refresh  no-op: writes are searchable when acknowledged
//	GET /_cat/indices[/{index}], /_cat/health, /_cat/count[/{index}]  text (v, h, s, bytes, help) or format=json
//	GET /_cluster/health[/{index}]      always green: one node, no replicas
//	GET /_mapping, /{index}/_mapping, /_field_caps  field types inferred from the newest events
//	GET /_license, /_xpack              a basic license (Beats and Logstash check it)
//	/_index_template, /_component_template, /_template, /_ingest/pipeline, /_ilm/policy
//	                                    kept in memory and read back, not applied
//	/_data_stream/{name}                a data stream is an index
//
// # Search
//
// The query DSL is translated to a kql tree (the store's query language):
// match_all, match_none, match, match_phrase, match_phrase_prefix,
// multi_match, term, terms, prefix, wildcard, ids, range (gt, gte, lt, lte,
// format, time_zone; dates with date math such as now-1h/d or
// 2026-01-01||+1M), exists, bool (must, filter, should, must_not,
// minimum_should_match), constant_score, dis_max, boosting, nested,
// query_string (a Lucene classic query parser: fields, AND OR NOT + -,
// phrases, wildcards, ranges [a TO b] {a TO b}, field:>=n, _exists_) and
// simple_query_string; the q, df and default_operator parameters.
// Documents are sorted by @timestamp (newest first unless sort asks for
// @timestamp asc); size, from (from+size up to 10,000), _source filtering,
// track_total_hits, rest_total_hits_as_int, post_filter, typed_keys.
// Aggregations: date_histogram on @timestamp (fixed_interval,
// calendar_interval, time_zone, offset, min_doc_count, extended_bounds,
// hard_bounds, format, keyed, order), terms (size, order by _count or
// _key, min_doc_count, include, exclude), filter, filters, and min, max,
// avg, sum, stats, value_count, cardinality; sub-aggregations are computed
// per bucket.
//
// # Differences from Elasticsearch
//
// Indices are append-only log indices: documents cannot be deleted or
// updated, an _id given twice is stored twice (no version conflict for
// create), _version is always 1 and result always "created". A bulk item
// without _id is answered with the id the Backend reports, or with a
// generated one that GET cannot resolve (storing one per event would cost
// space; the single-document API does store the id it generates).
// Matching follows KQL's semantics (see the kql package): term-level
// queries match whole tokens case-insensitively rather than exact keyword
// values, '?' in wildcards matches like '*', fuzziness and slop do not
// change what matches, and every hit scores 1.0. Only @timestamp sorts.
// There is no scroll, search_after or point in time, no aliases and no
// scripts. Documents without @timestamp are stored at their receive time
// (marked with FieldNoTimestamp, so that _source shows what was sent).
package esapi
