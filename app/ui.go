package app

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// contentSecurityPolicy limits the user interface to Hearth's own scripts
// and connections.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// notBuiltPage is served when the binary was built without the frontend.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hearth</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Hearth's interface was not built</h1>
<p>This copy of Hearth was compiled without its user interface. Build it with <code>make run</code>,
or run <code>npm ci &amp;&amp; npm run build</code> in the <code>frontend</code> folder and compile again.</p>
<p>The HTTP API under <code>/api/</code> works without it.</p>
</body></html>
`

// uiHandler serves the built frontend in ui. Paths without a file extension
// that match no file get index.html, so the single-page app can own them.
func uiHandler(ui fs.FS) http.Handler {
	if ui == nil {
		return notBuilt()
	}
	if _, err := fs.Stat(ui, "index.html"); err != nil {
		return notBuilt()
	}
	files := http.FileServerFS(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)

		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			files.ServeHTTP(w, r)
			return
		}
		// Folders are not listed, and dot files such as .gitkeep are not
		// part of the interface.
		info, err := fs.Stat(ui, name)
		switch {
		case err == nil && !info.IsDir() && !hasDotSegment(name):
			files.ServeHTTP(w, r)
		case errors.Is(err, fs.ErrNotExist) && path.Ext(name) == "":
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			files.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}

func notBuilt() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(notBuiltPage))
	})
}

// hasDotSegment reports whether any element of a slash-separated path starts
// with a dot.
func hasDotSegment(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}
