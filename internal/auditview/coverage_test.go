package auditview_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/auditview"
)

// actionShape is what an action looks like: "area.verb" or "area.sub.verb".
var actionShape = regexp.MustCompile(`^[a-z_]+(\.[a-z_-]+)+$`)

// fileExtensions end strings that are file names, not actions (nda.md).
var fileExtensions = map[string]bool{"md": true, "yaml": true, "json": true, "csv": true, "pdf": true, "zip": true, "key": true,
	"txt": true, "sig": true, "atom": true, "html": true}

// TestEveryWrittenEventHasARule reads the sources: every audit.Entry the
// code builds must name an object type and action that the rule table
// classifies, so that a new event cannot reach the audit page unclassified
// (it would be shown to admins only, by Deny, which is safe but surely not
// what its author wants).
func TestEveryWrittenEventHasARule(t *testing.T) {
	known := map[auditview.Kind]bool{}
	actions, objectTypes, prefixes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, k := range auditview.Kinds() {
		known[k], actions[k.Action], objectTypes[k.ObjectType] = true, true, true
		prefixes[strings.SplitN(k.Action, ".", 2)[0]] = true
	}
	fset := token.NewFileSet()
	entries := 0
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			checkFile(t, fset, f, known, actions, objectTypes, prefixes, &entries)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The walk found the code at all (70-odd events are written today).
	if entries < 60 {
		t.Fatalf("found only %d audit.Entry literals; is the walk reading the sources?", entries)
	}
}

func checkFile(t *testing.T, fset *token.FileSet, f *ast.File, known map[auditview.Kind]bool, actions, objectTypes, prefixes map[string]bool, entries *int) {
	t.Helper()
	// Any string shaped like an action in an area the table knows must be
	// an action the table names (catches actions set through variables,
	// such as entry.Action = "auth.login.failed").
	names := map[ast.Node]bool{} // Name: "auth.prune-login-failures" names a job
	if f.Name.Name == "webhook" {
		// Webhook event types (packet.requested, dpa.signed) share the
		// shape of actions; they are declared as constants there and are
		// not audit events.
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, spec := range gd.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						names[v] = true
					}
				}
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Name" {
				names[kv.Value] = true
			}
		}
		if s, ok := stringLit(n); ok && actionShape.MatchString(s) && prefixes[strings.SplitN(s, ".", 2)[0]] && !actions[s] &&
			!names[n] && !fileExtensions[s[strings.LastIndex(s, ".")+1:]] {
			t.Errorf("%s: %q looks like an audit action but auditview has no rule for it", fset.Position(n.Pos()), s)
		}
		return true
	})
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isAuditEntry(lit.Type, f.Name.Name) {
				return true
			}
			*entries++
			pos := fset.Position(lit.Pos())
			var objectType string
			var action ast.Expr
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch key, _ := kv.Key.(*ast.Ident); {
				case key == nil:
				case key.Name == "ObjectType":
					s, ok := stringLit(kv.Value)
					if !ok {
						t.Errorf("%s: audit.Entry's ObjectType must be a string literal, so its rule can be checked", pos)
					}
					objectType = s
				case key.Name == "Action":
					action = kv.Value
				}
			}
			if objectType == "" {
				return true // reported above, or the literal sets no object type
			}
			if !objectTypes[objectType] {
				t.Errorf("%s: object type %q has no rule in auditview", pos, objectType)
			}
			for _, a := range possibleActions(t, pos, f, fn, action) {
				if !known[auditview.Kind{Action: a, ObjectType: objectType}] {
					t.Errorf("%s: event %q on %q has no rule in auditview", pos, a, objectType)
				}
			}
			return true
		})
	}
}

// possibleActions resolves the Action of an audit.Entry to the strings it
// can take: a literal; "prefix." + x, with x one of the function's case
// labels (the privacy-request steps); a parameter, from the literals the
// file passes in its place; anything else (a local variable, or Action set
// after the literal) from the action-shaped literals of the function.
func possibleActions(t *testing.T, pos token.Position, f *ast.File, fn *ast.FuncDecl, action ast.Expr) []string {
	t.Helper()
	if s, ok := stringLit(action); ok {
		return []string{s}
	}
	if bin, ok := action.(*ast.BinaryExpr); ok && bin.Op == token.ADD {
		prefix, ok := stringLit(bin.X)
		if !ok {
			t.Errorf("%s: cannot resolve the action", pos)
			return nil
		}
		var out []string
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if s, ok := stringLit(e); ok {
						out = append(out, prefix+s)
					}
				}
			}
			return true
		})
		if len(out) == 0 {
			t.Errorf("%s: action %q + … has no case labels to resolve it", pos, prefix)
		}
		return out
	}
	if id, ok := action.(*ast.Ident); ok {
		if i := paramIndex(fn, id.Name); i >= 0 {
			var out []string
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || calleeName(call) != fn.Name.Name || i >= len(call.Args) {
					return true
				}
				if s, ok := stringLit(call.Args[i]); ok {
					out = append(out, s)
				} else {
					t.Errorf("%s: %s is called with a computed action", pos, fn.Name.Name)
				}
				return true
			})
			if len(out) == 0 {
				t.Errorf("%s: no call of %s passes its action", pos, fn.Name.Name)
			}
			return out
		}
	}
	var out []string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if s, ok := stringLit(n); ok && actionShape.MatchString(s) {
			out = append(out, s)
		}
		return true
	})
	if len(out) == 0 {
		t.Errorf("%s: cannot find the actions this audit.Entry takes", pos)
	}
	return out
}

func isAuditEntry(typ ast.Expr, pkg string) bool {
	switch x := typ.(type) {
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && id.Name == "audit" && x.Sel.Name == "Entry"
	case *ast.Ident:
		return pkg == "audit" && x.Name == "Entry"
	}
	return false
}

func stringLit(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func paramIndex(fn *ast.FuncDecl, name string) int {
	i := 0
	for _, field := range fn.Type.Params.List {
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	return -1
}

func calleeName(call *ast.CallExpr) string {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}
