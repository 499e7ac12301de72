package mask

// A preset is a built-in rule: a regex, the groups holding the secret (the
// first that took part in a match is masked; 0 is the whole match), an
// optional check on that part, and an optional hand-written prefilter for
// regexes whose required literals say little.
type preset struct {
	regex     string
	groups    []int
	check     func(string) bool
	prefilter func(string) bool
	window    *window
}

// A window narrows a regex search to the text around each anchor byte: the
// run of left bytes before it and of right bytes after it. It is valid for a
// regex without anchors or \b whose every match holds the anchor and lies in
// such a run (the anchor being in neither set); apply then finds exactly the
// matches a search of the whole string would.
type window struct {
	anchor      byte
	left, right [256]bool
}

func newWindow(anchor byte, left, right string) *window {
	w := &window{anchor: anchor}
	for i := 0; i < len(left); i++ {
		w.left[left[i]] = true
	}
	for i := 0; i < len(right); i++ {
		w.right[right[i]] = true
	}
	return w
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Keywords of kv_secret; a name containing one (db_password, x-api-key,
// auth_token) counts.
const secretKeys = `password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?`

var presets = map[string]preset{
	// name@domain.tld.
	"email": {
		regex:  `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,
		groups: []int{0},
		window: newWindow('@', alnum+"._%+-", alnum+".-"),
	},
	// 13 to 19 digits in one run, or 4-4-4-4 with spaces or dashes, or
	// Amex's 4-6-5, that pass the Luhn check (so order numbers and the like
	// are left alone).
	"credit_card": {
		regex:     `\b(?:\d{13,19}|\d{4}(?:-\d{4}){3}|\d{4}(?: \d{4}){3}|\d{4}[ -]\d{6}[ -]\d{5})\b`,
		groups:    []int{0},
		check:     luhn,
		prefilter: digitRun13,
	},
	// Dotted quads with each part 0-255.
	"ipv4": {
		regex:     `\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b`,
		groups:    []int{0},
		prefilter: dottedQuad,
	},
	// The token after "Bearer " (RFC 6750 characters); "Bearer " stays.
	"bearer_token": {regex: `(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)`, groups: []int{1}},
	// The credentials of an Authorization (or Proxy-Authorization) header or
	// key, after an optional scheme, which stays: "Authorization: Basic ***".
	"authorization": {
		regex:  `(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:basic|bearer|digest|negotiate|token|apikey)\s+)?([^\s"',;]+)`,
		groups: []int{1},
	},
	// AWS access key ids (AKIA..., ASIA...: temporary, and the rarer kinds).
	"aws_access_key": {regex: `\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`, groups: []int{0}},
	// The value of key=value or key: value (JSON "key": "value" too) whose
	// key names a secret; quoted values are masked inside their quotes
	// (escaped quotes included), bare ones up to a space , ; & or }.
	"kv_secret": {
		regex:  `(?i)((?:` + secretKeys + `)[\w.-]*["']?\s*[=:]\s*)(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"',;&}]+))`,
		groups: []int{2, 3, 4},
		// Derived literals would take "wd" for pwd; these are rarer.
		prefilter: literals{{"passw", true}, {"pwd", true}, {"secret", true}, {"token", true}, {"key", true}, {"credential", true}}.match,
	},
	// JSON Web Tokens: base64url header and payload that both start with
	// '{"' (eyJ), and an optional signature.
	"jwt": {regex: `\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`, groups: []int{0}},
}

// presetNames lists the presets for error messages, in a fixed order.
const presetNames = "email, credit_card, ipv4, bearer_token, authorization, aws_access_key, kv_secret, jwt"

// luhn reports whether the digits of s (separators ignored) pass the Luhn
// checksum.
func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n > 0 && sum%10 == 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitRun13 reports whether s has 13 digits in a row, allowing one space
// or dash between two digits: every credit_card match has. Such a run spans
// at least 13 bytes, so it covers one of any 13 positions in a row: only
// every 13th byte is looked at until one falls in a run.
func digitRun13(s string) bool {
	const need = 13
	for p := need - 1; p < len(s); {
		if !inRun(s, p) {
			p += need
			continue
		}
		start := p
		for start > 0 && inRun(s, start-1) {
			start--
		}
		digits, end := 0, start
		for ; end < len(s) && inRun(s, end); end++ {
			if isDigit(s[end]) {
				digits++
			}
		}
		if digits >= need {
			return true
		}
		// s[end] is not in a run, so the next run starts after it.
		p = end + need
	}
	return false
}

// inRun reports whether s[i] is a digit, or a single space or dash between
// two digits.
func inRun(s string, i int) bool {
	c := s[i]
	if isDigit(c) {
		return true
	}
	return (c == ' ' || c == '-') && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1])
}

// dottedQuad reports whether s has four groups of one to three digits
// joined by dots: every ipv4 match has.
func dottedQuad(s string) bool {
	for i := 0; i < len(s); {
		dot := indexFrom(s, i, '.')
		if dot == len(s) {
			return false
		}
		// A match starts after a non-word character, so the group before
		// its first dot is all the digits there (at most three).
		k := dot
		for k > 0 && dot-k < 3 && isDigit(s[k-1]) {
			k--
		}
		if k < dot && quadAt(s, k) {
			return true
		}
		i = dot + 1
	}
	return false
}

// quadAt reports whether s[k:] starts with d{1,3}(\.d{1,3}){3}.
func quadAt(s string, k int) bool {
	for part := 0; part < 4; part++ {
		n := 0
		for k < len(s) && n < 3 && isDigit(s[k]) {
			k++
			n++
		}
		if n == 0 {
			return false
		}
		if part < 3 {
			if k >= len(s) || s[k] != '.' {
				return false
			}
			k++
		}
	}
	return true
}
