// Package envscan finds the environment variables a Go module reads, from its source: calls
// of platform/config's Env getters (env.String("HTTP_ADDR", def), env.Int, env.Duration,
// env.Bool, env.List) and of os.Getenv / os.LookupEnv with a constant name. The deployment
// checks compare them with what docker-compose.yml and the Kubernetes manifests set, so that
// a renamed or misspelt variable fails a test instead of being silently ignored at run time.
package envscan

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Var is one variable read by the scanned code.
type Var struct {
	Name string
	// Default is the literal default passed to the getter; empty when there is none or it
	// is not a string literal (Int, Duration and computed defaults).
	Default string
	// Where lists file:line of every read, for error messages.
	Where []string
}

// Vars maps a variable name to how it is read.
type Vars map[string]*Var

// Names returns the variable names, sorted.
func (v Vars) Names() []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// envName is the shape of the variables the project uses; it keeps calls like
// strings.Builder.String() or flag.Int("port", ...) from being mistaken for reads.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// getters are platform/config.Env's methods and their arity (name, default).
var getters = map[string]bool{"String": true, "Int": true, "Duration": true, "Bool": true, "List": true}

// Dirs scans the non-test Go files under each directory (recursively, skipping testdata,
// vendor, hidden directories and nested modules) and merges what they read.
func Dirs(dirs ...string) (Vars, error) {
	out := Vars{}
	for _, dir := range dirs {
		if err := scanTree(dir, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanTree(root string, out Vars) error {
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("envscan: %s is not a directory", root)
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return scanPackage(path, out)
		}
		return nil
	})
}

// scanPackage parses one directory's non-test files together, so that a constant declared
// in one file and used as a variable name in another is resolved.
func scanPackage(dir string, out Vars) error {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("envscan: %w", err)
		}
		files = append(files, f)
	}
	consts := stringConsts(files)
	for _, f := range files {
		osName := importName(f, "os")
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			isOS := osName != "" && isIdent(sel.X, osName) && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv")
			isGetter := getters[sel.Sel.Name] && len(call.Args) == 2
			if !isOS && !isGetter {
				return true
			}
			name, ok := stringValue(call.Args[0], consts)
			if !ok || !envName.MatchString(name) {
				return true
			}
			v := out[name]
			if v == nil {
				v = &Var{Name: name}
				out[name] = v
			}
			if isGetter {
				if def, ok := stringValue(call.Args[1], consts); ok && v.Default == "" {
					v.Default = def
				}
			}
			pos := fset.Position(call.Pos())
			v.Where = append(v.Where, fmt.Sprintf("%s:%d", pos.Filename, pos.Line))
			return true
		})
	}
	return nil
}

// stringConsts collects the package's string constants declared with a literal value.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if s, ok := literal(vs.Values[i]); ok {
						out[name.Name] = s
					}
				}
			}
		}
	}
	return out
}

func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	if s, ok := literal(e); ok {
		return s, true
	}
	if id, ok := e.(*ast.Ident); ok {
		s, ok := consts[id.Name]
		return s, ok
	}
	return "", false
}

func literal(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// importName is the name under which f imports path, or "" when it does not.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return filepath.Base(path)
		}
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
