// Package apidump writes the exported API of a Go package as text: one declaration per entry,
// without doc comments or bodies, in a stable order, so that a checked-in copy (keychain/api.txt)
// changes exactly when the API does, and not when a comment or an implementation does.
package apidump

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dump is the exported API of the package in dir (its non-test .go files), headed by title.
func Dump(title, dir string) (string, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	var decls []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		af, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		if err != nil {
			return "", err
		}
		if af.Name.Name == "main" {
			continue
		}
		for _, d := range af.Decls {
			out, err := exported(fset, d)
			if err != nil {
				return "", err
			}
			decls = append(decls, out...)
		}
	}
	sort.Strings(decls)
	return "# " + title + "\n\n" + strings.Join(decls, "\n") + "\n", nil
}

func exported(fset *token.FileSet, d ast.Decl) ([]string, error) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
			return nil, nil
		}
		f := *d
		f.Doc, f.Body = nil, nil
		s, err := print(fset, &f)
		return []string{s}, err
	case *ast.GenDecl:
		var out []string
		for _, sp := range d.Specs {
			switch sp := sp.(type) {
			case *ast.TypeSpec:
				if !sp.Name.IsExported() {
					continue
				}
				t := *sp
				t.Doc, t.Comment = nil, nil
				t.Type = exportedOnly(t.Type)
				s, err := print(fset, &ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{&t}})
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			case *ast.ValueSpec:
				for i, n := range sp.Names {
					if !n.IsExported() {
						continue
					}
					v := &ast.ValueSpec{Names: []*ast.Ident{n}, Type: sp.Type}
					if i < len(sp.Values) {
						v.Values = []ast.Expr{sp.Values[i]}
					}
					s, err := print(fset, &ast.GenDecl{Tok: d.Tok, Specs: []ast.Spec{v}})
					if err != nil {
						return nil, err
					}
					out = append(out, s)
				}
			}
		}
		return out, nil
	}
	return nil, nil
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(r *ast.FieldList) bool {
	if len(r.List) == 0 {
		return false
	}
	t := r.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// exportedOnly is a struct or interface type with its unexported fields and methods left out
// (and said to be there), and without comments.
func exportedOnly(t ast.Expr) ast.Expr {
	switch t := t.(type) {
	case *ast.StructType:
		return &ast.StructType{Fields: filterFields(t.Fields)}
	case *ast.InterfaceType:
		return &ast.InterfaceType{Methods: filterFields(t.Methods)}
	}
	return t
}

func filterFields(fl *ast.FieldList) *ast.FieldList {
	out := &ast.FieldList{}
	hidden := false
	for _, f := range fl.List {
		var names []*ast.Ident
		for _, n := range f.Names {
			if n.IsExported() {
				names = append(names, n)
			} else {
				hidden = true
			}
		}
		if len(f.Names) == 0 || len(names) > 0 { // embedded, or with exported names
			out.List = append(out.List, &ast.Field{Names: names, Type: f.Type, Tag: f.Tag})
		}
	}
	if hidden {
		out.List = append(out.List, &ast.Field{Names: []*ast.Ident{ast.NewIdent("_")}, Type: ast.NewIdent("unexported")})
	}
	return out
}

func print(fset *token.FileSet, n any) (string, error) {
	var b bytes.Buffer
	if err := (&printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}).Fprint(&b, token.NewFileSet(), n); err != nil {
		return "", fmt.Errorf("apidump: %v", err)
	}
	return b.String(), nil
}
