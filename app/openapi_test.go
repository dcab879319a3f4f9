package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"hearth/memory"
)

// openAPIFile is the API's OpenAPI document, relative to this package.
const openAPIFile = "../docs/api/openapi.yaml"

// routerFile holds App.routes, whose mux.Handle calls register every route.
const routerFile = "http.go"

// catchAllPatterns are the router's patterns without a method: the 404 and
// 405 responses for unknown API paths, and the user interface. They are not
// API routes, so the document leaves them out.
var catchAllPatterns = []string{"/api/", "/"}

// openAPIMethods are the operation keys of an OpenAPI 3.1 path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// pathParameterName matches a {name} segment of a path template.
var pathParameterName = regexp.MustCompile(`\{([^{}]*)\}`)

// loadOpenAPI parses the OpenAPI document as YAML.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("read the OpenAPI document: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", openAPIFile, err)
	}
	if doc == nil {
		t.Fatalf("%s is empty", openAPIFile)
	}
	return doc
}

// documentedRoutes returns the document's operations as "METHOD /path",
// each mapped to its path item and operation.
func documentedRoutes(t *testing.T, doc map[string]any) map[string]documentedOperation {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no paths object", openAPIFile)
	}
	routes := map[string]documentedOperation{}
	for path, rawItem := range paths {
		item, ok := rawItem.(map[string]any)
		if !ok {
			t.Errorf("%s: path %s is not an object", openAPIFile, path)
			continue
		}
		for _, method := range openAPIMethods {
			rawOperation, ok := item[method]
			if !ok {
				continue
			}
			operation, ok := rawOperation.(map[string]any)
			if !ok {
				t.Errorf("%s: %s %s is not an object", openAPIFile, method, path)
				continue
			}
			routes[strings.ToUpper(method)+" "+path] = documentedOperation{path: path, item: item, operation: operation}
		}
	}
	return routes
}

// documentedOperation is one operation of the document with its path item.
type documentedOperation struct {
	path      string
	item      map[string]any
	operation map[string]any
}

// registeredRoutes returns the "METHOD /path" patterns that App.routes
// registers, read from the source of routerFile. A registration whose
// pattern is not a string literal, or that has no method and is not one of
// catchAllPatterns, fails the test, because this check could not see or
// document it.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, routerFile, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", routerFile, err)
	}
	routesFunc := findAppMethod(file, "routes")
	if routesFunc == nil {
		t.Fatalf("%s has no method (*App).routes", routerFile)
	}

	var routes []string
	ast.Inspect(routesFunc.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		selector, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (selector.Sel.Name != "Handle" && selector.Sel.Name != "HandleFunc") || len(call.Args) == 0 {
			return true
		}
		position := fset.Position(call.Pos())
		literal, ok := call.Args[0].(*ast.BasicLit)
		if !ok || literal.Kind != token.STRING {
			t.Errorf("%s: the pattern of this %s call is not a string literal, so this test cannot read the route. Write the pattern as a literal.", position, selector.Sel.Name)
			return true
		}
		pattern, err := strconv.Unquote(literal.Value)
		if err != nil {
			t.Errorf("%s: unquote the pattern %s: %v", position, literal.Value, err)
			return true
		}
		method, path, hasMethod := strings.Cut(pattern, " ")
		if !hasMethod {
			if !slices.Contains(catchAllPatterns, pattern) {
				t.Errorf("%s: the pattern %q has no method. Register each API route with one, such as \"GET %s\".", position, pattern, pattern)
			}
			return true
		}
		path = strings.TrimLeft(path, " \t")
		if !strings.HasPrefix(path, "/") {
			t.Errorf("%s: the pattern %q names a host, which this test does not support", position, pattern)
			return true
		}
		routes = append(routes, method+" "+path)
		return true
	})
	if len(routes) == 0 {
		t.Fatalf("found no routes registered in (*App).routes in %s", routerFile)
	}
	return routes
}

// findAppMethod returns the declaration of the method name of *App in file.
func findAppMethod(file *ast.File, name string) *ast.FuncDecl {
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Name.Name != name || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		if ident, ok := star.X.(*ast.Ident); ok && ident.Name == "App" {
			return fn
		}
	}
	return nil
}

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	version, ok := doc["openapi"].(string)
	if !ok {
		t.Fatalf("%s: openapi is %#v, want a string such as \"3.1.0\"", openAPIFile, doc["openapi"])
	}
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(version) {
		t.Errorf("%s: openapi is %q, want 3.1.x", openAPIFile, version)
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	documented := documentedRoutes(t, loadOpenAPI(t))
	for _, route := range registeredRoutes(t) {
		if _, ok := documented[route]; !ok {
			t.Errorf("the router registers %q, but %s does not document it. Add the operation to the document.", route, openAPIFile)
		}
	}
}

func TestOpenAPIListsOnlyRegisteredRoutes(t *testing.T) {
	registered := registeredRoutes(t)
	for route := range documentedRoutes(t, loadOpenAPI(t)) {
		if !slices.Contains(registered, route) {
			t.Errorf("%s documents %q, but App.routes in %s does not register it. Remove the operation or register the route.", openAPIFile, route, routerFile)
		}
	}
}

// TestOpenAPIPathParameters checks that each operation declares exactly the
// path parameters that its path template names, as required parameters.
func TestOpenAPIPathParameters(t *testing.T) {
	doc := loadOpenAPI(t)
	components, _ := doc["components"].(map[string]any)
	sharedParameters, _ := components["parameters"].(map[string]any)

	for route, op := range documentedRoutes(t, doc) {
		var inTemplate []string
		for _, match := range pathParameterName.FindAllStringSubmatch(op.path, -1) {
			inTemplate = append(inTemplate, match[1])
		}

		var declared []string
		for _, list := range []any{op.item["parameters"], op.operation["parameters"]} {
			parameters, _ := list.([]any)
			for _, raw := range parameters {
				parameter := resolveParameter(t, route, raw, sharedParameters)
				if parameter == nil || parameter["in"] != "path" {
					continue
				}
				name, _ := parameter["name"].(string)
				declared = append(declared, name)
				if parameter["required"] != true {
					t.Errorf("%s: the path parameter %q must have required: true", route, name)
				}
			}
		}

		slices.Sort(inTemplate)
		slices.Sort(declared)
		if !slices.Equal(inTemplate, declared) {
			t.Errorf("%s: the path names the parameters %q, but the document declares %q", route, inTemplate, declared)
		}
	}
}

// resolveParameter returns the parameter object raw, following a $ref to
// #/components/parameters. It reports a reference it cannot follow.
func resolveParameter(t *testing.T, route string, raw any, shared map[string]any) map[string]any {
	t.Helper()
	parameter, ok := raw.(map[string]any)
	if !ok {
		t.Errorf("%s: a parameter is not an object: %#v", route, raw)
		return nil
	}
	ref, ok := parameter["$ref"].(string)
	if !ok {
		return parameter
	}
	name, ok := strings.CutPrefix(ref, "#/components/parameters/")
	if !ok {
		t.Errorf("%s: the parameter reference %q does not point into #/components/parameters", route, ref)
		return nil
	}
	target, ok := shared[name].(map[string]any)
	if !ok {
		t.Errorf("%s: the parameter reference %q names no parameter", route, ref)
		return nil
	}
	return target
}

// TestOpenAPIRoutesAreServed sends each documented operation, without a
// session or body, to a running app. No documented route may get the
// router's 404 or 405 for unknown routes, because its own handler responds
// first: a public route with its result or 415, every other route with 401.
// The path values are well-formed ids, because a thread or message id of
// another form is 404 for a signed-in request.
func TestOpenAPIRoutesAreServed(t *testing.T) {
	env := newTestEnv(t)
	pathValues := map[string]string{
		"threadId":  memory.NewID(),
		"messageId": memory.NewID(),
		"profileId": "AAAAAAAAAAAAAAAAAAAAAA",
	}

	for route := range documentedRoutes(t, loadOpenAPI(t)) {
		method, path, _ := strings.Cut(route, " ")
		url := pathParameterName.ReplaceAllStringFunc(path, func(segment string) string {
			value, ok := pathValues[strings.Trim(segment, "{}")]
			if !ok {
				t.Fatalf("%s: no test value for the path parameter %s. Add one to pathValues.", route, segment)
			}
			return value
		})
		resp, body := env.do(method, url, "", nil)
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want the route's own answer; body %s", method, url, resp.StatusCode, body)
		}
	}
}
