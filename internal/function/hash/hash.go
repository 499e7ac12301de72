// Package hash is the "hash" function: replace field values with their
// hashes (pseudonymize user ids, emails, client IPs), or compute one
// fingerprint of several fields, like Logstash's fingerprint filter.
//
// Each field mode (the default): every field listed in fields is replaced by
// the hex hash of its text, or, with target set, the hash goes to
// target.NAME and the original stays (target "hashed" puts the hash of
// user.email at hashed.user.email). A missing field is skipped. Strings are
// hashed as they are; numbers, booleans and arrays by their text form (42 →
// "42", arrays as JSON); a name that is an object is hashed as its JSON
// (sorted keys) and replaced, with everything below it, by the hash, so an
// object and a field inside it cannot both be listed. Null hashes as the
// empty string.
//
// Fingerprint mode (fingerprint: FIELD): one hash of all fields, written to
// FIELD, built as Logstash's concatenate_sources does:
// "|name1|value1|name2|value2|" for the fields in the order listed, a
// missing field contributing an empty value. When every listed field is
// missing, no fingerprint is written: equal fingerprints of empty events
// would make a destination's deduplication drop unrelated events.
//
// algorithm is sha256 (default), sha512, sha1 or md5 (the last two for
// compatibility with existing ids only: they are broken for security). With
// salt the hash is an HMAC keyed by salt (Logstash's key option); write
// salt: ${HASH_SALT} to keep it out of the config. encoding is hex
// (default, lower case) or base64 (standard, padded).
package hash

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	stdhash "hash"
	"strings"
	"sync"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the hash function's configuration.
type Config struct {
	Fields      []string `yaml:"fields" doc:"fields to hash (each mode) or to fingerprint together, in this order"`
	Algorithm   string   `yaml:"algorithm" doc:"sha256, sha512, sha1 or md5"`
	Salt        string   `yaml:"salt" doc:"HMAC key; empty means a plain hash (use ${ENV_VAR})"`
	Encoding    string   `yaml:"encoding" doc:"hex or base64"`
	Target      string   `yaml:"target" doc:"each mode: prefix for the hashes (hash of a goes to TARGET.a, a stays); empty replaces the values in place"`
	Fingerprint string   `yaml:"fingerprint" doc:"fingerprint mode: field that receives one hash of all fields, concatenated as |name|value|..."`
}

var algorithms = map[string]func() stdhash.Hash{
	"sha256": sha256.New,
	"sha512": sha512.New,
	"sha1":   sha1.New,
	"md5":    md5.New,
}

// Validate checks the options.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "hash needs at least one field (fields: [user.email])")
	}
	seen := map[string]bool{}
	for i, f := range c.Fields {
		if f == "" || f == event.TimestampField {
			return component.Errorf("fields", "entry %d (%q) must name a field (@timestamp is the event time)", i, f)
		}
		if seen[f] {
			return component.Errorf("fields", "%s is listed twice", f)
		}
		seen[f] = true
		if c.Fingerprint == "" {
			// Hashing an object replaces everything below it.
			for _, g := range c.Fields[:i] {
				if strings.HasPrefix(f, g+".") || strings.HasPrefix(g, f+".") {
					return component.Errorf("fields", "%s and %s overlap: hashing the object replaces the field inside it", g, f)
				}
			}
		}
	}
	if _, ok := algorithms[c.Algorithm]; !ok {
		return component.Errorf("algorithm", "must be sha256, sha512, sha1 or md5, not %q", c.Algorithm)
	}
	if c.Encoding != "hex" && c.Encoding != "base64" {
		return component.Errorf("encoding", "must be hex or base64, not %q", c.Encoding)
	}
	if c.Fingerprint != "" && c.Target != "" {
		return component.Errorf("target", "is for hashing each field; with fingerprint the hash goes to the fingerprint field")
	}
	if c.Fingerprint == event.TimestampField {
		return component.Errorf("fingerprint", "cannot write the fingerprint to @timestamp, the event time")
	}
	return nil
}

type fn struct {
	fields      []string
	target      string
	fingerprint string
	base64      bool
	pool        sync.Pool // of stdhash.Hash, plain or HMAC
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	h := f.pool.Get().(stdhash.Hash)
	defer f.pool.Put(h)
	if f.fingerprint != "" {
		f.fingerprintEvent(ev, h)
		return true
	}
	var buf [128]byte
	for _, name := range f.fields {
		v, ok := ev.Lookup(name)
		var text string
		switch {
		case ok:
			if s, isStr := v.Str(); isStr {
				text = s
			} else {
				text = v.Text()
			}
		case ev.Has(name):
			x, _ := ev.Get(name)
			text = event.Any(x).Text()
		default:
			continue
		}
		h.Reset()
		h.Write(unsafeBytes(text))
		ev.SetValue(fnutil.Join(f.target, name), event.String(f.encode(h.Sum(buf[:0]))))
	}
	return true
}

func (f *fn) fingerprintEvent(ev *event.Event, h stdhash.Hash) {
	h.Reset()
	found := false
	var buf [128]byte
	for _, name := range f.fields {
		h.Write(bar)
		h.Write(unsafeBytes(name))
		h.Write(bar)
		v, ok := ev.Lookup(name)
		switch {
		case ok:
			found = true
			if s, isStr := v.Str(); isStr {
				h.Write(unsafeBytes(s))
			} else {
				h.Write(v.AppendText(buf[:0]))
			}
		case ev.Has(name):
			found = true
			x, _ := ev.Get(name)
			h.Write(unsafeBytes(event.Any(x).Text()))
		}
	}
	if !found {
		return
	}
	h.Write(bar)
	ev.SetValue(f.fingerprint, event.String(f.encode(h.Sum(buf[:0]))))
}

var bar = []byte{'|'}

// unsafeBytes returns the bytes of s without copying. Only for hash.Write,
// which, as io.Writer requires, neither modifies nor keeps them.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (f *fn) encode(sum []byte) string {
	var buf [2 * sha512.Size]byte
	if f.base64 {
		return string(base64.StdEncoding.AppendEncode(buf[:0], sum))
	}
	return string(hex.AppendEncode(buf[:0], sum))
}

// Spec registers the hash function.
var Spec = component.FunctionSpec{
	Type: "hash",
	Doc: "Replaces fields with their hashes (or writes them under `target`), or writes one `fingerprint` of several fields as Logstash's fingerprint does; " +
		"sha256 (default), sha512, sha1 or md5, an HMAC when `salt` is set, hex or base64.",
	Example: `- type: hash
  fields: [user.email, client.ip]
  algorithm: sha256
  salt: ${HASH_SALT:-change-me}`,
	NewConfig: func() any { return &Config{Algorithm: "sha256", Encoding: "hex"} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("hash", cfg)
		if err != nil {
			return nil, err
		}
		newHash := algorithms[c.Algorithm]
		f := &fn{fields: c.Fields, target: c.Target, fingerprint: c.Fingerprint, base64: c.Encoding == "base64"}
		if c.Salt != "" {
			key := []byte(c.Salt)
			f.pool.New = func() any { return hmac.New(newHash, key) }
		} else {
			f.pool.New = func() any { return newHash() }
		}
		return f, nil
	},
}
