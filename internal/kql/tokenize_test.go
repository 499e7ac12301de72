package kql

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ...  ", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"GET /api/v1/users?id=42", []string{"get", "api", "v1", "users", "id", "42"}},
		{"snake_case and kebab-case", []string{"snake_case", "and", "kebab", "case"}},
		{"10.0.0.7:8080", []string{"10", "0", "0", "7", "8080"}},
		{"2026-01-02T10:00:00Z", []string{"2026", "01", "02t10", "00", "00z"}},
		{"ÜNÏCODE Straße İstanbul", []string{"ünïcode", "straße", "istanbul"}},
		{"日本語のテキスト", []string{"日本語のテキスト"}},
		{"a\xffb", []string{"a", "b"}},
		{"tab\there\nnew", []string{"tab", "here", "new"}},
		{"x²", []string{"x"}}, // ² is a number but not a decimal digit
	} {
		var got []string
		Tokenize(tc.in, func(tok string) { got = append(got, strings.Clone(tok)) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if toks := Tokens(tc.in); !slices.Equal(toks, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, toks, tc.want)
		}
	}
}

func TestTokenizeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	n := 0
	emit := func(string) { n++ }
	for _, s := range []string{
		"plain lowercase ascii text with 42 tokens_and_more",
		"MIXED Case ASCII Text From A Log Line: ERROR 500",
		"ÜNÏCODE too",
	} {
		if allocs := testing.AllocsPerRun(100, func() { Tokenize(s, emit) }); allocs != 0 {
			t.Errorf("Tokenize(%q): %v allocations", s, allocs)
		}
	}
}

// referenceTokens is the definition of Tokenize, written the slow way.
func referenceTokens(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
	})
	for i, f := range fields {
		fields[i] = strings.Map(unicode.ToLower, f)
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}
