// Package dockerfile reads Dockerfiles with BuildKit's own parser and shell lexer, so that
// the deployment checks see the instructions exactly as `docker build` will: stages, ENV
// with quoting, flags such as --from, and the `go build` commands the images run (which a
// test then runs on the host with the same flags).
package dockerfile

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// File is a parsed Dockerfile.
type File struct {
	Path string
	// Args are the ARGs declared before the first FROM, with their defaults.
	Args   map[string]string
	Stages []*Stage
	lex    *shell.Lex
}

// Stage is one FROM and the instructions under it.
type Stage struct {
	// Name is the AS name, or "" when the stage has none.
	Name string
	// From is the base image with global ARGs expanded.
	From         string
	Instructions []Instruction
	lex          *shell.Lex
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	Line int
	// Cmd is the instruction keyword, upper-cased (RUN, COPY, ...).
	Cmd   string
	Flags []string
	// Args are the parsed arguments: one shell string for shell-form RUN/CMD/ENTRYPOINT,
	// the elements for the JSON form, key/value/"=" triples for ENV.
	Args []string
	// JSON tells whether the exec (JSON array) form was used.
	JSON bool
}

// Load parses the Dockerfile at p.
func Load(p string) (*File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, p)
}

// Parse parses a Dockerfile read from r; name is used in errors.
func Parse(r io.Reader, name string) (*File, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lex := shell.NewLex(res.EscapeToken)
	f := &File{Path: name, Args: map[string]string{}, lex: lex}
	var cur *Stage
	for _, n := range res.AST.Children {
		in := Instruction{Line: n.StartLine, Cmd: strings.ToUpper(n.Value), Flags: n.Flags, JSON: n.Attributes["json"]}
		for a := n.Next; a != nil; a = a.Next {
			in.Args = append(in.Args, a.Value)
		}
		switch {
		case in.Cmd == "FROM":
			if len(in.Args) == 0 {
				return nil, fmt.Errorf("%s:%d: FROM without an image", name, in.Line)
			}
			from, _, err := lex.ProcessWord(in.Args[0], shell.EnvsFromSlice(f.argSlice()))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, in.Line, err)
			}
			cur = &Stage{From: from, lex: lex}
			if len(in.Args) == 3 && strings.EqualFold(in.Args[1], "AS") {
				cur.Name = in.Args[2]
			}
			f.Stages = append(f.Stages, cur)
		case cur == nil && in.Cmd == "ARG":
			for _, a := range in.Args {
				k, v, _ := strings.Cut(a, "=")
				f.Args[k] = v
			}
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: %s before the first FROM", name, in.Line, in.Cmd)
		default:
			cur.Instructions = append(cur.Instructions, in)
		}
	}
	if len(f.Stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", name)
	}
	return f, nil
}

func (f *File) argSlice() []string {
	out := make([]string, 0, len(f.Args))
	for k, v := range f.Args {
		out = append(out, k+"="+v)
	}
	return out
}

// Final is the stage the image is made of.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// Stage returns the stage named name, or nil.
func (f *File) Stage(name string) *Stage {
	for _, s := range f.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// All returns the stage's instructions of kind cmd (upper case), in order.
func (s *Stage) All(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// Flag returns the value of --name=value on the instruction.
func (in Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// Env returns the environment the stage's ENV instructions set, quotes removed and earlier
// values expanded, as Docker does.
func (s *Stage) Env() (map[string]string, error) {
	env, _, err := s.envAt(len(s.Instructions))
	return env, err
}

// envAt returns the ENV set and the WORKDIR in force before instruction i.
func (s *Stage) envAt(i int) (map[string]string, string, error) {
	env := map[string]string{}
	dir := "/"
	for _, in := range s.Instructions[:i] {
		switch in.Cmd {
		case "ENV":
			// The parser yields key, value, "=" for each pair.
			for j := 0; j+1 < len(in.Args); j += 3 {
				v, _, err := s.lex.ProcessWord(in.Args[j+1], shell.EnvsFromSlice(envSlice(env)))
				if err != nil {
					return nil, "", fmt.Errorf("line %d: %w", in.Line, err)
				}
				env[in.Args[j]] = v
			}
		case "WORKDIR":
			if len(in.Args) == 1 {
				if path.IsAbs(in.Args[0]) {
					dir = path.Clean(in.Args[0])
				} else {
					dir = path.Join(dir, in.Args[0])
				}
			}
		}
	}
	return env, dir, nil
}

func envSlice(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// Command is one simple command of a shell-form RUN: its inline VAR=value assignments and
// its words, with the stage's ENV and WORKDIR in force at that point.
type Command struct {
	Line int
	// Dir is the WORKDIR the command runs in.
	Dir string
	// Env is the stage's ENV plus the command's inline assignments.
	Env map[string]string
	// Assigned are the inline assignments alone (GOPROXY=off go build ...).
	Assigned map[string]string
	// Words are the command and its arguments, quotes removed, variables not expanded.
	Words []string
}

// Commands splits every shell-form RUN of the stage into its simple commands (separated by
// &&). Pipes, redirections and control flow are refused: the images' build steps are meant
// to be plain commands that a test can replay.
func (s *Stage) Commands() ([]Command, error) {
	var out []Command
	for i, in := range s.Instructions {
		if in.Cmd != "RUN" {
			continue
		}
		env, dir, err := s.envAt(i)
		if err != nil {
			return nil, err
		}
		if in.JSON {
			out = append(out, Command{Line: in.Line, Dir: dir, Env: env, Assigned: map[string]string{}, Words: slices.Clone(in.Args)})
			continue
		}
		for _, part := range strings.Split(strings.Join(in.Args, " "), "&&") {
			if strings.ContainsAny(part, "|;<>`") || strings.Contains(part, "$(") {
				return nil, fmt.Errorf("line %d: %q is not a plain command", in.Line, strings.TrimSpace(part))
			}
			// Words are split without expansion: the lexer's env is empty and every $ is
			// refused above or kept literally by the check below.
			words, err := s.lex.ProcessWords(part, shell.EnvsFromSlice(nil))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", in.Line, err)
			}
			if strings.Contains(part, "$") {
				return nil, fmt.Errorf("line %d: %q expands variables; spell values out so that tests replay them", in.Line, strings.TrimSpace(part))
			}
			c := Command{Line: in.Line, Dir: dir, Env: maps.Clone(env), Assigned: map[string]string{}}
			for len(words) > 0 && isAssignment(words[0]) {
				k, v, _ := strings.Cut(words[0], "=")
				c.Assigned[k] = v
				c.Env[k] = v
				words = words[1:]
			}
			if len(words) == 0 {
				return nil, fmt.Errorf("line %d: empty command", in.Line)
			}
			if words[0] == "cd" {
				return nil, fmt.Errorf("line %d: use WORKDIR instead of cd", in.Line)
			}
			c.Words = words
			out = append(out, c)
		}
	}
	return out, nil
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	if !ok || k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
