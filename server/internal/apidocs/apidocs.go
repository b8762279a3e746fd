// Package apidocs renders the REST reference page from the OpenAPI spec the
// server embeds, so the page can never describe another API than the one
// served. The page is one self-contained HTML document: no scripts, no
// external assets.
package apidocs

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"
)

//go:embed page.html.tmpl
var files embed.FS

type spec struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths       map[string]map[string]operation `json:"paths"`
	Definitions map[string]schema               `json:"definitions"`
}

type operation struct {
	Summary     string              `json:"summary"`
	Description string              `json:"description"`
	OperationID string              `json:"operationId"`
	Parameters  []parameter         `json:"parameters"`
	Responses   map[string]response `json:"responses"`
	Tags        []string            `json:"tags"`
}

type parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Type        string  `json:"type"`
	Format      string  `json:"format"`
	Description string  `json:"description"`
	Schema      *schema `json:"schema"`
	Items       *schema `json:"items"`
	Enum        []any   `json:"enum"`
}

type response struct {
	Description string  `json:"description"`
	Schema      *schema `json:"schema"`
}

type schema struct {
	Ref         string            `json:"$ref"`
	Type        string            `json:"type"`
	Format      string            `json:"format"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Properties  map[string]schema `json:"properties"`
	Items       *schema           `json:"items"`
	Enum        []any             `json:"enum"`
	Required    []string          `json:"required"`
}

// Page data.

type page struct {
	Title, Version, Description string
	Services                    []service
	Types                       []typeDoc
}

type service struct {
	Name, Description string
	Ops               []op
}

type op struct {
	Method, Path, Anchor, Name, Summary string
	Params                              []field
	Body                                string // type name of the body, "" for none
	BodyFields                          []field
	Response                            string
	Example                             string
}

type field struct {
	Name, Type, TypeAnchor, Description string
	Required                            bool
}

type typeDoc struct {
	Name, Anchor, Description string
	Fields                    []field
	Enum                      []string
}

// Render builds the HTML reference page from an OpenAPI v2 document.
func Render(openapi []byte) ([]byte, error) {
	var s spec
	if err := json.Unmarshal(openapi, &s); err != nil {
		return nil, fmt.Errorf("apidocs: parse spec: %w", err)
	}
	p := page{Title: s.Info.Title, Version: s.Info.Version, Description: s.Info.Description}
	byTag := map[string]int{} // index into p.Services
	for _, t := range s.Tags {
		byTag[t.Name] = len(p.Services)
		p.Services = append(p.Services, service{Name: t.Name, Description: t.Description})
	}
	paths := make([]string, 0, len(s.Paths))
	for path := range s.Paths {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		for method, o := range s.Paths[path] {
			tag := "Other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			i, ok := byTag[tag]
			if !ok {
				i = len(p.Services)
				byTag[tag] = i
				p.Services = append(p.Services, service{Name: tag})
			}
			p.Services[i].Ops = append(p.Services[i].Ops, s.operation(method, path, o))
		}
	}
	// The consent and verification services are what integrations call;
	// administration goes last.
	sort.SliceStable(p.Services, func(a, b int) bool {
		return !strings.HasPrefix(p.Services[a].Name, "Admin") && strings.HasPrefix(p.Services[b].Name, "Admin")
	})
	for i := range p.Services {
		sort.Slice(p.Services[i].Ops, func(a, b int) bool { return p.Services[i].Ops[a].Name < p.Services[i].Ops[b].Name })
	}
	names := make([]string, 0, len(s.Definitions))
	for n := range s.Definitions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := s.Definitions[n]
		td := typeDoc{Name: n, Anchor: "type-" + n, Description: firstNonEmpty(d.Description, d.Title)}
		for _, e := range d.Enum {
			td.Enum = append(td.Enum, fmt.Sprint(e))
		}
		td.Fields = s.fields(d)
		p.Types = append(p.Types, td)
	}
	tmpl, err := template.New("page.html.tmpl").ParseFS(files, "page.html.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *spec) operation(method, path string, o operation) op {
	name := o.OperationID
	if i := strings.Index(name, "_"); i >= 0 {
		name = name[i+1:]
	}
	out := op{Method: strings.ToUpper(method), Path: path, Anchor: "op-" + o.OperationID, Name: name,
		Summary: firstNonEmpty(o.Description, o.Summary)}
	for _, prm := range o.Parameters {
		if prm.In == "body" && prm.Schema != nil {
			out.Body = refName(prm.Schema.Ref)
			out.BodyFields = s.fields(s.resolve(*prm.Schema))
			continue
		}
		typ := prm.Type
		if prm.Type == "array" && prm.Items != nil {
			typ = "array of " + firstNonEmpty(prm.Items.Type, refName(prm.Items.Ref))
		}
		desc := prm.Description
		if len(prm.Enum) > 0 {
			desc = strings.TrimSpace(desc + " One of: " + joinAny(prm.Enum) + ".")
		}
		out.Params = append(out.Params, field{Name: prm.Name + " (" + prm.In + ")", Type: typ, Description: desc, Required: prm.Required})
	}
	if r, ok := o.Responses["200"]; ok && r.Schema != nil {
		out.Response = refName(r.Schema.Ref)
	}
	out.Example = example(out, s)
	return out
}

// fields lists the properties of an object schema, in name order.
func (s *spec) fields(d schema) []field {
	names := make([]string, 0, len(d.Properties))
	for n := range d.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []field
	for _, n := range names {
		f := d.Properties[n]
		typ, anchor := typeOf(f)
		desc := firstNonEmpty(f.Description, f.Title)
		if target := s.resolve(f); f.Ref != "" && len(target.Enum) > 0 {
			desc = strings.TrimSpace(desc + " One of: " + joinAny(target.Enum) + ".")
		}
		out = append(out, field{Name: n, Type: typ, TypeAnchor: anchor, Description: desc, Required: contains(d.Required, n)})
	}
	return out
}

func (s *spec) resolve(d schema) schema {
	if d.Ref == "" {
		return d
	}
	return s.Definitions[refName(d.Ref)]
}

func typeOf(f schema) (string, string) {
	switch {
	case f.Ref != "":
		return refName(f.Ref), "type-" + refName(f.Ref)
	case f.Type == "array" && f.Items != nil:
		t, a := typeOf(*f.Items)
		return "array of " + t, a
	case f.Format != "":
		return f.Type + " (" + f.Format + ")", ""
	}
	return f.Type, ""
}

// example is a curl line with the body's fields as placeholders.
func example(o op, s *spec) string {
	path := o.Path
	var b strings.Builder
	fmt.Fprintf(&b, "curl -H \"Authorization: Bearer $IZIN_KEY\"")
	if o.Method != "GET" {
		fmt.Fprintf(&b, " -X %s", o.Method)
	}
	fmt.Fprintf(&b, " \"http://localhost:8080%s\"", path)
	if o.Body != "" {
		body := map[string]any{}
		for _, f := range o.BodyFields {
			body[f.Name] = placeholder(f)
		}
		j, _ := json.Marshal(body)
		fmt.Fprintf(&b, " \\\n  -d '%s'", j)
	}
	return b.String()
}

func placeholder(f field) any {
	switch {
	case strings.HasPrefix(f.Type, "array of"):
		return []any{}
	case f.Type == "boolean":
		return false
	case strings.HasPrefix(f.Type, "integer"):
		return 0
	case f.Type == "string" || strings.HasPrefix(f.Type, "string ("):
		return ""
	}
	return nil
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/definitions/") }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func joinAny(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
