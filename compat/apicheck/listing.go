package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// Load type-checks nothing itself: it asks the go command to compile the
// packages (and their dependencies) and loads their export data, which
// records every exported declaration exactly as the compiler saw it.
// dir is the module directory the go command runs in.
func Load(dir string, paths ...string) (map[string]*types.Package, error) {
	args := append([]string{"list", "-export", "-deps", "-json=ImportPath,Export,Error"}, paths...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -export %s: %v\n%s", strings.Join(paths, " "), err, stderr.String())
	}
	exports := make(map[string]string)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Export     string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %v", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %q (not among the dependencies go list reported)", path)
		}
		return os.Open(file)
	})
	pkgs := make(map[string]*types.Package, len(paths))
	for _, path := range paths {
		pkg, err := imp.Import(path)
		if err != nil {
			return nil, fmt.Errorf("importing %s: %v", path, err)
		}
		pkgs[path] = pkg
	}
	return pkgs, nil
}

// An Entry is one line of an API listing. Key names the declaration
// ("func Upgrade", "method (*Conn).ReadMessage", "field Dialer.Proxy", ...);
// Decl is its normalised declaration, which must be equal in both packages.
type Entry struct {
	Key  string
	Decl string
}

func (e Entry) String() string { return e.Decl }

// Listing returns the exported API of pkg, sorted by key. Types from pkg
// itself are written unqualified and other packages by their name
// (http.Header), so listings of two packages compare line by line. Parameter
// names are dropped (they are documentation, not API), and `any` is written
// as interface{}, which is the same type.
func Listing(pkg *types.Package) []Entry {
	qual := func(p *types.Package) string {
		switch {
		case p == pkg:
			return ""
		case p.Name() == pkg.Name():
			// Another package of the same name (compat seen from
			// compat/btcsuite): spell it out so it cannot pass for ours.
			return p.Path()
		}
		return p.Name()
	}
	typ := func(t types.Type) string { return normalise(types.TypeString(stripNames(t), qual)) }
	sig := func(s *types.Signature) string { return normalise(types.TypeString(unnamed(s), qual)) }

	var list []Entry
	add := func(key, decl string) { list = append(list, Entry{key, decl}) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Const:
			add("const "+name, fmt.Sprintf("const %s %s = %s", name, typ(obj.Type()), obj.Val().ExactString()))
		case *types.Var:
			add("var "+name, fmt.Sprintf("var %s %s", name, typ(obj.Type())))
		case *types.Func:
			add("func "+name, "func "+name+strings.TrimPrefix(sig(obj.Type().(*types.Signature)), "func"))
		case *types.TypeName:
			named, ok := types.Unalias(obj.Type()).(*types.Named)
			if obj.IsAlias() && (!ok || named.Obj().Name() != name) {
				add("type "+name, fmt.Sprintf("type %s = %s", name, typ(obj.Type())))
				continue
			}
			if !ok {
				add("type "+name, fmt.Sprintf("type %s %s", name, typ(obj.Type())))
				continue
			}
			// A defined type, or an alias of a type of the same name
			// elsewhere, which callers see exactly as if it were
			// defined here (signatures still name its package).
			listNamed(name, named, add, typ, sig)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	return list
}

func listNamed(name string, named *types.Named, add func(key, decl string),
	typ func(types.Type) string, sig func(*types.Signature) string) {
	switch u := named.Underlying().(type) {
	case *types.Struct:
		var fields []string
		hidden := false
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			if !f.Exported() {
				hidden = true
				continue
			}
			fields = append(fields, f.Name())
			kind := "field"
			if f.Embedded() {
				kind = "embedded field"
			}
			add("field "+name+"."+f.Name(), fmt.Sprintf("%s %s.%s %s", kind, name, f.Name(), typ(f.Type())))
		}
		decl := fmt.Sprintf("type %s struct { %s }", name, strings.Join(fields, "; "))
		if hidden {
			// Unkeyed composite literals only compile against a
			// struct with no unexported fields: part of the API.
			decl += " // has unexported fields"
		}
		add("type "+name, decl)
	case *types.Interface:
		var methods []string
		for i := 0; i < u.NumMethods(); i++ {
			m := u.Method(i)
			methods = append(methods, m.Name()+strings.TrimPrefix(sig(m.Type().(*types.Signature)), "func"))
		}
		sort.Strings(methods)
		add("type "+name, fmt.Sprintf("type %s interface { %s }", name, strings.Join(methods, "; ")))
	default:
		add("type "+name, fmt.Sprintf("type %s %s", name, typ(u)))
	}
	for i := 0; i < named.NumMethods(); i++ {
		m := named.Method(i)
		if !m.Exported() {
			continue
		}
		s := m.Type().(*types.Signature)
		recv := name
		if _, ptr := s.Recv().Type().(*types.Pointer); ptr {
			recv = "*" + name
		}
		key := fmt.Sprintf("method (%s).%s", name, m.Name())
		add(key, fmt.Sprintf("method (%s) %s%s", recv, m.Name(), strings.TrimPrefix(sig(s), "func")))
	}
}

// unnamed returns s without receiver and parameter names, also in the
// function types among its parameters and results (func(appData string)
// error and func(string) error are the same type).
func unnamed(s *types.Signature) *types.Signature {
	strip := func(t *types.Tuple) *types.Tuple {
		vars := make([]*types.Var, t.Len())
		for i := range vars {
			vars[i] = types.NewParam(token.NoPos, nil, "", stripNames(t.At(i).Type()))
		}
		return types.NewTuple(vars...)
	}
	return types.NewSignatureType(nil, nil, nil, strip(s.Params()), strip(s.Results()), s.Variadic())
}

func stripNames(t types.Type) types.Type {
	switch t := t.(type) {
	case *types.Signature:
		return unnamed(t)
	case *types.Pointer:
		return types.NewPointer(stripNames(t.Elem()))
	case *types.Slice:
		return types.NewSlice(stripNames(t.Elem()))
	case *types.Array:
		return types.NewArray(stripNames(t.Elem()), t.Len())
	case *types.Map:
		return types.NewMap(stripNames(t.Key()), stripNames(t.Elem()))
	case *types.Chan:
		return types.NewChan(t.Dir(), stripNames(t.Elem()))
	}
	return t
}

var anyWord = regexp.MustCompile(`\bany\b`)

func normalise(s string) string { return anyWord.ReplaceAllString(s, "interface{}") }

// A Difference is one entry that is not the same in the two listings.
type Difference struct {
	Key        string
	Want, Got  string // Want from the reference package, Got from ours; "" when absent
	Authorised string // why an extra entry is intended ("" if it is not)
}

func (d Difference) String() string {
	switch {
	case d.Got == "":
		return "missing: " + d.Want
	case d.Want == "" && d.Authorised != "":
		return "extra (intended: " + d.Authorised + "): " + d.Got
	case d.Want == "":
		return "extra: " + d.Got
	default:
		return "different:\n\twant " + d.Want + "\n\tgot  " + d.Got
	}
}

// Compare returns every difference between the reference listing want and
// the listing got, in key order. Entries of got whose key is in intended
// are still returned, with Authorised set to the reason given there.
func Compare(want, got []Entry, intended map[string]string) []Difference {
	w := make(map[string]string, len(want))
	g := make(map[string]string, len(got))
	var keys []string
	for _, e := range want {
		w[e.Key] = e.Decl
		keys = append(keys, e.Key)
	}
	for _, e := range got {
		g[e.Key] = e.Decl
		if _, ok := w[e.Key]; !ok {
			keys = append(keys, e.Key)
		}
	}
	sort.Strings(keys)
	var diffs []Difference
	for _, k := range keys {
		if w[k] == g[k] {
			continue
		}
		d := Difference{Key: k, Want: w[k], Got: g[k]}
		if d.Want == "" {
			d.Authorised = intended[k]
		}
		diffs = append(diffs, d)
	}
	return diffs
}
