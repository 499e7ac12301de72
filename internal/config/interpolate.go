package config

import (
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// interpolate replaces ${VAR}, ${VAR:-default} and ${file:PATH} in every
// scalar value below n. "$${" writes a literal "${". A missing variable
// without a default is an error at its line. Values are never logged.
func (l *loader) interpolate(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		out, err := l.expand(n.Value)
		if err != "" {
			l.errorf(n, path, "%s", err)
			return
		}
		n.Value = out
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			// Let YAML resolve the result's type again: ${PORT} may be a number.
			n.Tag = ""
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			l.interpolate(n.Content[i+1], joinPath(path, n.Content[i].Value))
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			l.interpolate(c, path)
		}
	}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (l *loader) expand(s string) (string, string) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ""
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", "unclosed ${ in value"
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		if l.opts.Untrusted {
			return "", "${" + ref + "} is not allowed in a config sent over the API (it would read the server's environment or files); write $${ for a literal ${"
		}
		if file, ok := strings.CutPrefix(ref, "file:"); ok {
			data, err := os.ReadFile(file)
			if err != nil {
				return "", "cannot read ${file:" + file + "}: " + err.Error()
			}
			b.WriteString(strings.TrimRight(string(data), "\r\n"))
			continue
		}
		name, def, hasDef := strings.Cut(ref, ":-")
		if name == "" {
			return "", "empty variable name in ${}"
		}
		v, ok := l.opts.LookupEnv(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", "environment variable " + name + " is not set (use ${" + name + ":-default} for a default)"
		}
	}
}
