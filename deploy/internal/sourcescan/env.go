// Package sourcescan reads facts the deployment files must agree with straight from the Go
// source of the services: the environment variables each one reads and the Prometheus
// metrics it exports. The deployment checks compare them with docker-compose.yml, the
// Kubernetes manifests and the Grafana dashboard, so that a renamed or misspelt variable or
// metric fails a test instead of being silently ignored at run time.
package sourcescan

import (
	"fmt"
	"go/ast"
	"regexp"
	"sort"
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

// EnvVars scans the non-test Go files under each directory (see Packages) for the
// variables they read.
func EnvVars(dirs ...string) (Vars, error) {
	out := Vars{}
	err := Packages(dirs, func(p Package) { envVars(p, out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func envVars(p Package, out Vars) {
	fset, files, consts := p.Fset, p.Files, p.Consts
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
}
