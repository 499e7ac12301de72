// Package kql parses and evaluates KQL, the Kibana Query Language, as the
// store's search API and the web UI's search bar accept it.
//
// The grammar follows Kibana's (packages/kbn-es-query/src/kuery/grammar/
// grammar.peggy) and the meaning follows what Kibana sends to Elasticsearch
// for each construct (kuery/functions/is.ts, range.ts, exists.ts,
// nested.ts), adapted to Sluice's schemaless events: there is no mapping
// that says whether a field is text, keyword, number or date, so a value is
// compared according to the type it has in the event.
//
// # Syntax
//
//	error                      free text: a word searched in every field
//	"connection refused"       free text phrase
//	quick brown fox            several words: any of them (see below)
//	status:500                 field query; spaces around ':' are allowed
//	message:"quick brown"      field phrase
//	host.name:web-*            wildcard ('*' anywhere in a word)
//	kubernetes.labels.*:web    field-name pattern ('*' in the field name)
//	http.request.method:*      the field exists
//	status >= 500              range: <, <=, >, >=
//	@timestamp < "2026-01-01"  @timestamp is the event's time
//	@timestamp > now-15m       date math: now, now-1h, now/d, now-1d/d
//	a and b, a or b, not a     operators, in any case: not > and > or
//	(a or b) and c             parentheses
//	status:(500 or 502)        value groups, with and, or, not inside
//	items:{ name:x and qty>2 } nested query (see Match)
//	f\:g:a\(b\)                escapes: \ ( ) : < > " * { } and \t \r \n
//	\and \or \not              the words and, or, not (or quote them)
//	"say \"hi\""               in quotes: \" \\ \t \r \n \uXXXX
//
// Field names are written like values: dotted names and names starting
// with @ need nothing special, and a quoted name ("user agent":x) may hold
// anything. A '*' in a field name is always a pattern. As in Kibana,
// unquoted text runs up to a special character or a keyword, so
// "foo bar:baz" is the field "foo bar", and "a:b c:d" is an error (write
// "a:b and c:d").
//
// An unquoted value of several words separated by whitespace is one value
// in Kibana's grammar ("quick brown fox", "status:400 401 404"), which
// Kibana sends as a match query: on a text field, any of the words
// matches. Parse makes that explicit: it is the 'or' of its words, and
// String prints it so.
//
// An empty or blank query matches everything. Errors are *SyntaxError with
// the byte offset and a message such as
// "line 1, column 10: expected a value after '>='".
//
// Where Sluice deviates from Kibana's grammar, it accepts more or explains
// better, never changes the meaning of a query Kibana accepts, except in
// these corner cases:
//   - Keywords are recognized only as whole words. Kibana ends a value at
//     "not " even inside a word ("cannot be" is an error there); here it is
//     the two words "cannot" and "be".
//   - A dangling operator is an error: "a or", "a and", "not". Kibana
//     reads a trailing "or" without a following space as part of the value.
//     A query starting with "and" or "or" is an error too; quote or escape
//     the word to search for it.
//   - Operators need no spaces next to parentheses and quotes:
//     "(a)or(b)", "not(a)".
//   - "\not" starting a word and standing alone is the word "not"; Kibana
//     reads it as a newline followed by "ot". "\nothing" and "x\not" hold a
//     newline in both.
//   - A wildcard in a range value, and a value that is not a date in a term
//     or range on @timestamp, are errors here (Elasticsearch rejects them
//     when it runs the query).
//
// # Matching
//
// Match is the reference semantics, and a brute-force evaluator over one
// event. Tokens are what Tokenize makes: runs of letters, digits and '_',
// lowercased. Fields whose name starts with '_' are internal: free text
// and field-name patterns skip them (unless the pattern starts with '_');
// naming them exactly works.
//
// A value term (Term) compares the query value with each value the field
// selects; a list (tags) matches when any element does:
//   - string values: the value's tokens contain the query's tokens as a
//     contiguous sequence, case-insensitively ("timeout" matches "Timeout
//     while connecting", "web-01" matches "host web-01" but not "web-02",
//     a phrase must appear in order). This serves both Elasticsearch text
//     fields (message:timeout) and keyword fields (service:api).
//     A query value without tokens ("-", "") must equal the string exactly.
//     A date query (2026-01-02, at least day precision, or date math)
//     also matches strings that hold a date in that period.
//   - numbers: when the query value is a number, numeric equality
//     (status:500 matches 500, 500.0 and the string "500", not 500.5); a
//     number never matches a word.
//   - booleans: the query value true or false.
//   - timestamps (time values, and @timestamp): the query value is a date
//     and the time falls in its period, as Elasticsearch does for date
//     fields: @timestamp:2026-01-02 is that whole day (UTC unless the
//     value has a zone).
//   - objects: a field name that names an object (kubernetes.labels when
//     the event has kubernetes.labels.app) matches nothing, as in
//     Elasticsearch; use kubernetes.labels.*:web. A path into a list of
//     objects (items.name over {"items":[{"name":…}]}) selects the members.
//
// A free-text term (no field) matches when any non-internal field matches
// it as above (objects inside lists included); @timestamp is not searched.
//
// A wildcard term matches a value when the whole value matches the pattern
// case-insensitively (keyword semantics: "web-0*", "*.log"), or when a
// contiguous run of the value's tokens matches the pattern's token pieces
// (text semantics: "err*" prefix, "*ror" suffix, "e*r" infix matching the
// token "error" in a message). Numbers and booleans match by their text.
//
// Exists (field:*) matches when the field, or anything below it, has a
// value that is not null and not an empty list or object.
//
// A range compares numerically when both sides are numbers (a string value
// that is a number counts), by time when the query value is a date
// (ParseTime) and the event value is a timestamp or a string holding a
// date, and otherwise by string order (bytes, case-sensitive). For @timestamp
// the query value must be a date; epoch milliseconds work too. Partial
// dates round as Elasticsearch's date math does: > and <= compare with the
// end of the period, >= and < with its start (so "<= 2026-01-01" includes
// the whole day).
//
// A nested query path:{q} matches, when the field path holds a list of
// objects, if one object matches q on its own (Elasticsearch's nested
// query); otherwise, when there are fields below path, q applies to them,
// with free text searching path.*. Events with nothing at path never match,
// even "path:{ not x }".
//
// # Skipping blocks
//
// RequiredTokens turns a query into the tokens a matching event must have,
// as a CNF that a store tests against per-block Bloom filters (MayMatch);
// TimeBounds gives the @timestamp period for skipping by time. Both are
// sound: they never exclude an event that Match accepts. EventTokens and
// ValueTokens define the tokens an event has.
package kql
