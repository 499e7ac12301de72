// Package expr compiles the filter and value expressions of routes and
// functions (`kubernetes.labels.app in ["webapp"]`, `"throttled" in tags`,
// `status >= 500 && method == "POST"`, `message matches "^ERR"`,
// `exists(user.id)`) into programs that run against one event.
//
// It is built on github.com/expr-lang/expr: we parse with its parser, then
// rewrite every field reference (an identifier, or a chain of dotted member
// accesses on one) into a call that reads the event's flat field list, so
// evaluating a filter never builds a map of the event. Names that cannot be
// written as identifiers are reached with field("@timestamp"). __source is
// the name of the source the event came from.
package expr

import (
	"fmt"
	"sync"

	exprlang "github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/sluicehq/sluice/internal/event"
)

// Env is what a program runs against. It is passed by pointer and never kept.
//
// Field reads are calls of the func-typed fields below rather than of
// registered functions: expr calls a func field of a known signature
// directly (OpCallTyped), while a registered function gets its arguments in
// a slice allocated on every run.
type Env struct {
	Event  *event.Event `expr:"-"`
	Source string       `expr:"$source"`
	// Get and Exists read Event; each runner sets them once.
	Get    func(path any) any  `expr:"$get"`
	Exists func(path any) bool `expr:"$exists"`
}

const (
	fnGet    = "$get"
	fnExists = "$exists"
	fnSource = "$source"
)

// Program is a compiled expression. It is safe for concurrent use.
type Program struct {
	src  string
	prog *vm.Program
	// tag is set for programs of the form "literal" in tags, the most
	// common filter of all, which Match answers without the VM.
	tag    string
	hasTag bool
}

// Error is a compile error with the position of the problem.
type Error struct {
	Expr   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("bad expression %q: %s (column %d)", e.Expr, e.Msg, e.Column+1)
}

func options() []exprlang.Option {
	return []exprlang.Option{
		exprlang.Env(&Env{}),
	}
}

// Compile compiles src.
func Compile(src string) (*Program, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, toError(src, err)
	}
	cfg := conf.CreateNew()
	for _, o := range options() {
		o(cfg)
	}
	cfg.Strict = true
	rw := &rewriter{callees: map[ast.Node]bool{}, vars: map[string]bool{}}
	ast.Walk(&tree.Node, (*collector)(rw))
	ast.Walk(&tree.Node, rw)
	if rw.err != nil {
		return nil, &Error{Expr: src, Msg: rw.err.Error()}
	}
	if _, err := checker.Check(tree, cfg); err != nil {
		return nil, toError(src, err)
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, toError(src, err)
	}
	pr := &Program{src: src, prog: prog}
	if b, ok := tree.Node.(*ast.BinaryNode); ok && b.Operator == "in" {
		lit, isStr := b.Left.(*ast.StringNode)
		if path, isGet := pathOf(b.Right); isStr && isGet && path == event.TagsField {
			pr.tag, pr.hasTag = lit.Value, true
		}
	}
	return pr, nil
}

func toError(src string, err error) error {
	var line, col int
	msg := err.Error()
	if l, c, m, ok := fileErrorParts(err); ok {
		line, col, msg = l, c, m
	}
	return &Error{Expr: src, Line: line, Column: col, Msg: msg}
}

// String returns the source of the program.
func (p *Program) String() string { return p.src }

// runner is a VM with its Env, pooled together so an evaluation allocates
// neither.
type runner struct {
	vm  vm.VM
	env Env
}

var runnerPool = sync.Pool{New: func() any {
	r := new(runner)
	r.env.Get = func(path any) any {
		v, _ := r.env.Event.Get(path.(string))
		return v
	}
	r.env.Exists = func(path any) bool { return r.env.Event.Has(path.(string)) }
	return r
}}

// Eval runs the program against ev.
func (p *Program) Eval(ev *event.Event, source string) (any, error) {
	r := runnerPool.Get().(*runner)
	r.env.Event, r.env.Source = ev, source
	out, err := r.vm.Run(p.prog, &r.env)
	r.env.Event, r.env.Source = nil, ""
	runnerPool.Put(r)
	return out, err
}

// Match runs the program as a filter: true only when it returns true.
// An evaluation error (a missing field compared with a number, say) is no
// match, and is returned for counting.
func (p *Program) Match(ev *event.Event, source string) (bool, error) {
	if p.hasTag {
		v, ok := ev.Lookup(event.TagsField)
		if !ok {
			return false, nil
		}
		if tags, isList := v.Interface().([]any); isList {
			for _, t := range tags {
				if t == p.tag {
					return true, nil
				}
			}
			return false, nil
		}
		// Anything else (a string tags field) goes through the VM, so the
		// answer is expr's.
	}
	out, err := p.Eval(ev, source)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// collector records call targets and let-bound names so the rewriter leaves
// them alone.
type collector rewriter

func (c *collector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.CallNode:
		c.callees[n.Callee] = true
	case *ast.VariableDeclaratorNode:
		c.vars[n.Name] = true
	}
}

// rewriter turns field references into $get("dotted.path") calls. ast.Walk
// visits children before parents, so "a.b.c" is rewritten bottom-up: the
// identifier a becomes $get("a"), then each member access on such a call
// folds into it.
type rewriter struct {
	callees map[ast.Node]bool
	vars    map[string]bool
	err     error
}

func getCall(path string) *ast.CallNode {
	return &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: fnGet},
		Arguments: []ast.Node{&ast.StringNode{Value: path}},
	}
}

// pathOf returns the path of a $get call made by the rewriter.
func pathOf(n ast.Node) (string, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return "", false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != fnGet || len(c.Arguments) != 1 {
		return "", false
	}
	s, ok := c.Arguments[0].(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

func (r *rewriter) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if r.callees[n] || r.vars[n.Value] || n.Value == "$env" || len(n.Value) > 0 && n.Value[0] == '$' {
			return
		}
		if n.Value == "__source" {
			ast.Patch(node, &ast.IdentifierNode{Value: fnSource})
			return
		}
		ast.Patch(node, getCall(n.Value))
	case *ast.MemberNode:
		base, ok := pathOf(n.Node)
		prop, isStr := n.Property.(*ast.StringNode)
		if ok && isStr && !n.Method {
			ast.Patch(node, getCall(base+"."+prop.Value))
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		switch id.Value {
		case "exists":
			if len(n.Arguments) != 1 {
				r.err = fmt.Errorf("exists takes one field, like exists(user.id)")
				return
			}
			p, ok := pathOf(n.Arguments[0])
			if !ok {
				if s, isStr := n.Arguments[0].(*ast.StringNode); isStr {
					p, ok = s.Value, true
				}
			}
			if !ok {
				r.err = fmt.Errorf("exists takes a field name, like exists(user.id) or exists(\"@timestamp\")")
				return
			}
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnExists}, Arguments: []ast.Node{&ast.StringNode{Value: p}}})
		case "field":
			if len(n.Arguments) != 1 {
				r.err = fmt.Errorf("field takes one name, like field(\"@timestamp\")")
				return
			}
			s, isStr := n.Arguments[0].(*ast.StringNode)
			if !isStr {
				r.err = fmt.Errorf("field takes a constant name, like field(\"@timestamp\")")
				return
			}
			ast.Patch(node, getCall(s.Value))
		}
	}
}
