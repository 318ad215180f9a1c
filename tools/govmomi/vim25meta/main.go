// Command vim25meta writes the vim25 (and PBM) data object metadata that vmop's SOAP encoder needs (each type's base
// type and its properties in schema order, with their XML types and whether they repeat), read from the Go
// source of govmomi's vim25/types package with go/parser. vmop commits the output; this runs only when the
// pinned govmomi version changes (tools/govmomi/gen-vim25-meta.sh).
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Prop is [xml name, type, flags]; flags: "a" repeats, "o" may be omitted.
type Prop [3]string

type Type struct {
	Base  string `json:"b,omitempty"`
	Props []Prop `json:"p,omitempty"`
}

type Meta struct {
	Version string          `json:"version"`
	Types   map[string]Type `json:"types"`
	Enums   []string        `json:"enums"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vim25meta GOVMOMI_DIR VERSION")
		os.Exit(2)
	}
	structs := map[string]*ast.StructType{}
	enums := map[string]bool{}
	bases := map[string]string{} // BaseX interface -> X
	// vim25 first, then PBM (storage policies), whose types refer to vim25's.
	for _, sub := range []string{"vim25/types", "pbm/types"} {
		dir := filepath.Join(os.Args[1], filepath.FromSlash(sub))
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		collect(pkgs, structs, enums, bases)
	}
	meta := Meta{Version: os.Args[2], Types: map[string]Type{}}
	fill(&meta, structs, enums, bases)
	for e := range enums {
		meta.Enums = append(meta.Enums, e)
	}
	sort.Strings(meta.Enums)
	out, _ := json.Marshal(meta)
	os.Stdout.Write(out)
}

func collect(pkgs map[string]*ast.Package, structs map[string]*ast.StructType, enums map[string]bool, bases map[string]string) {
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					switch t := ts.Type.(type) {
					case *ast.StructType:
						structs[ts.Name.Name] = t
					case *ast.Ident:
						if t.Name == "string" {
							enums[ts.Name.Name] = true
						}
					case *ast.InterfaceType:
						if strings.HasPrefix(ts.Name.Name, "Base") {
							bases[ts.Name.Name] = strings.TrimPrefix(ts.Name.Name, "Base")
						}
					}
				}
			}
		}
	}
}

func fill(meta *Meta, structs map[string]*ast.StructType, enums map[string]bool, bases map[string]string) {
	for name, st := range structs {
		var t Type
		for _, field := range st.Fields.List {
			if len(field.Names) == 0 {
				switch bt := field.Type.(type) {
				case *ast.Ident:
					t.Base = bt.Name
				case *ast.SelectorExpr: // a PBM type embedding a vim25 one, e.g. types.DynamicData
					t.Base = bt.Sel.Name
				}
				continue
			}
			tag := ""
			if field.Tag != nil {
				raw, _ := strconv.Unquote(field.Tag.Value)
				tag = reflect.StructTag(raw).Get("xml")
			}
			if tag == "" || tag == "-" {
				continue
			}
			parts := strings.Split(tag, ",")
			flags := ""
			typ, repeated, optional := xmlType(field.Type, enums, bases)
			if typ == "" {
				continue
			}
			if repeated {
				flags += "a"
			}
			if optional || strings.Contains(tag, "omitempty") {
				flags += "o"
			}
			t.Props = append(t.Props, Prop{parts[0], typ, flags})
		}
		meta.Types[name] = t
	}
}

func xmlType(expr ast.Expr, enums map[string]bool, bases map[string]string) (string, bool, bool) {
	switch t := expr.(type) {
	case *ast.StarExpr:
		typ, rep, _ := xmlType(t.X, enums, bases)
		return typ, rep, true
	case *ast.ArrayType:
		if id, ok := t.Elt.(*ast.Ident); ok && id.Name == "byte" {
			return "xsd:base64Binary", false, false
		}
		typ, _, _ := xmlType(t.Elt, enums, bases)
		return typ, true, true
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok && x.Name == "time" && t.Sel.Name == "Time" {
			return "xsd:dateTime", false, false
		}
		// A PBM field of a vim25 type (types.ManagedObjectReference, types.BaseMethodFault, …).
		return xmlType(t.Sel, enums, bases)
	case *ast.InterfaceType:
		return "xsd:anyType", false, false
	case *ast.Ident:
		switch t.Name {
		case "string":
			return "xsd:string", false, false
		case "bool":
			return "xsd:boolean", false, false
		case "int32", "int":
			return "xsd:int", false, false
		case "int64":
			return "xsd:long", false, false
		case "int16":
			return "xsd:short", false, false
		case "int8", "byte":
			return "xsd:byte", false, false
		case "float32":
			return "xsd:float", false, false
		case "float64":
			return "xsd:double", false, false
		case "AnyType":
			return "xsd:anyType", false, false
		case "ByteSlice":
			return "xsd:byte", true, false
		}
		if base, ok := bases[t.Name]; ok {
			return base, false, false
		}
		if enums[t.Name] {
			return "xsd:string", false, false
		}
		return t.Name, false, false
	}
	return "", false, false
}
