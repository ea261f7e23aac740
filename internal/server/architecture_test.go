package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// kitFiles are the files every area shares; every other file belongs to
// the area its name starts with (people.go, people_api.go …).
var kitFiles = map[string]bool{
	"kit.go": true, "bind.go": true, "textrules.go": true, "errors.go": true, "render.go": true,
	"middleware.go": true, "server.go": true, "routes.go": true, "metrics.go": true, "confirm.go": true,
}

func parsePackage(t *testing.T) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return files
}

func areaOfFile(name string) string {
	base := strings.TrimSuffix(name, ".go")
	area, _, _ := strings.Cut(base, "_")
	return area
}

// TestAreaHandlersHoldOnlyWhatTheyUse: every field of an area's handler
// type (but the kit) is used by one of its methods, and no type holding
// dependencies (Server, the kit, an area's handlers) grows past ten fields.
func TestAreaHandlersHoldOnlyWhatTheyUse(t *testing.T) {
	files := parsePackage(t)
	fields := map[string][]string{}      // handler type → its fields
	used := map[string]map[string]bool{} // handler type → fields its methods select
	for name, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					n := 0
					for _, fl := range st.Fields.List {
						n += max(len(fl.Names), 1)
						if strings.HasSuffix(ts.Name.Name, "Handlers") {
							for _, id := range fl.Names {
								fields[ts.Name.Name] = append(fields[ts.Name.Name], id.Name)
							}
						}
					}
					holdsDependencies := ts.Name.Name == "Server" || ts.Name.Name == "kit" || strings.HasSuffix(ts.Name.Name, "Handlers")
					if n > 10 && holdsDependencies {
						t.Errorf("%s: type %s has %d fields; split it", name, ts.Name.Name, n)
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List[0].Names) == 0 {
					continue
				}
				star, ok := d.Recv.List[0].Type.(*ast.StarExpr)
				if !ok {
					continue
				}
				typ := star.X.(*ast.Ident).Name
				recv := d.Recv.List[0].Names[0].Name
				if used[typ] == nil {
					used[typ] = map[string]bool{}
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					if sel, ok := n.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == recv {
							used[typ][sel.Sel.Name] = true
						}
					}
					return true
				})
			}
		}
	}
	if len(fields) < 10 {
		t.Fatalf("found %d area handler types; is the test reading the package?", len(fields))
	}
	for typ, fs := range fields {
		for _, f := range fs {
			if !used[typ][f] {
				t.Errorf("%s holds %s but none of its handlers uses it", typ, f)
			}
		}
	}
}

// TestSharedHelpersLiveInTheKit: a function or type declared in an area's
// files is not used by another area's files; what two areas share belongs
// in the kit.
func TestSharedHelpersLiveInTheKit(t *testing.T) {
	files := parsePackage(t)
	declaredIn := map[string]string{} // top-level name → area
	for name, f := range files {
		if kitFiles[name] {
			continue
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					declaredIn[d.Name.Name] = areaOfFile(name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						declaredIn[s.Name.Name] = areaOfFile(name)
					case *ast.ValueSpec:
						for _, id := range s.Names {
							if id.Name != "_" {
								declaredIn[id.Name] = areaOfFile(name)
							}
						}
					}
				}
			}
		}
	}
	var shared []string
	for name, f := range files {
		if kitFiles[name] {
			continue
		}
		area := areaOfFile(name)
		var visit func(n ast.Node) bool
		visit = func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				// x.Sel names a field, a method or another package's
				// declaration; only x can name one of this package's.
				ast.Inspect(n.X, visit)
				return false
			case *ast.Ident:
				// Names declared in this file resolve (Obj is set); the
				// unresolved ones are declared in the package's other files.
				if owner, ok := declaredIn[n.Name]; ok && owner != area && n.Obj == nil {
					shared = append(shared, name+" uses "+n.Name+", declared by the "+owner+" area")
				}
			}
			return true
		}
		ast.Inspect(f, visit)
	}
	sort.Strings(shared)
	for _, s := range shared {
		t.Error(s)
	}
}
