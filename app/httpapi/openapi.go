package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"dealerdesk/app/api"
)

// OpenAPI returns the OpenAPI 3.1 description of every /api/v1 route, generated from
// the same route table that mounts the handlers, so it cannot drift from them.
func (s *Server) OpenAPI() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	pathParam := regexp.MustCompile(`:([A-Za-z]+)`)
	for _, rt := range s.Routes {
		p := pathParam.ReplaceAllString(rt.Path, "{$1}")
		op := map[string]any{"summary": rt.Summary, "operationId": opID(rt)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "integer"}})
		}
		if rt.Query != nil {
			t := reflect.TypeOf(rt.Query)
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if name := f.Tag.Get("query"); name != "" {
					params = append(params, map[string]any{"name": name, "in": "query", "schema": g.schema(f.Type)})
				}
			}
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Multipart {
			content := map[string]any{"multipart/form-data": map[string]any{
				"schema": map[string]any{"type": "object", "properties": map[string]any{
					"file": map[string]any{"type": "string", "format": "binary"}, "entity": map[string]any{"type": "string"}, "entityId": map[string]any{"type": "integer"}}}}}
			if rt.In != nil {
				content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(rt.In))}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		} else if rt.In != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.In))}}}
		}
		resp := map[string]any{}
		status := "200"
		if rt.Method == http.MethodPost && rt.Out != nil && !strings.Contains(rt.Path, "/:") && rt.Perm != api.Public && !strings.HasPrefix(rt.Path, "/auth/") && !strings.HasSuffix(rt.Path, "/verify") {
			status = "201"
		}
		if rt.Status != 0 {
			status = strconv.Itoa(rt.Status)
		}
		if rt.Out == nil && rt.Method == http.MethodGet { // a file download
			resp["200"] = map[string]any{"description": "The file", "content": map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		} else if rt.Out != nil {
			resp[status] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Out))}}}
		} else {
			resp["204"] = map[string]any{"description": "Done"}
		}
		resp["default"] = map[string]any{"$ref": "#/components/responses/Error"}
		op["responses"] = resp
		switch rt.Perm {
		case api.Public:
			op["security"] = []any{}
		case api.SignedIn:
			op["x-permission"] = "signed in"
		default:
			op["x-permission"] = rt.Perm
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	g.defs["Error"] = map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object", "properties": map[string]any{
		"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "requestId": map[string]any{"type": "string"},
		"fields": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "properties": map[string]any{
			"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
		"details": map[string]any{"type": "object"}}}}}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "DealerDesk API", "version": "v1 (" + s.deps.Version + ")",
			"description": "The JSON API the DealerDesk web UI uses; integrations call it with an API key (Authorization: Bearer ddk_…). Times are unix milliseconds, money integer fen. Mutating calls need Content-Type: application/json."},
		"servers": []any{map[string]any{"url": Prefix}},
		"paths":   paths,
		"components": map[string]any{
			"schemas":   g.defs,
			"responses": map[string]any{"Error": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}},
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "dd_session"},
				"apiKey":  map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{map[string]any{"session": []any{}}, map[string]any{"apiKey": []any{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func opID(rt api.Route) string {
	parts := strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '-' || r == ':' || r == '.' })
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, p := range parts {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

type schemaGen struct {
	defs map[string]any
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage
			return map[string]any{}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := api.TypeName(reflect.New(t).Elem().Interface())
		if name == "" {
			return map[string]any{"type": "object"}
		}
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				jname := strings.Split(tag, ",")[0]
				if jname == "" {
					jname = f.Name
				}
				props[jname] = g.schema(f.Type)
			}
			g.defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}
