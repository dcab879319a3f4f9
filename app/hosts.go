package app

import (
	"net"
	"net/http"
	"strings"
)

// RestrictHosts rejects requests whose Host header names neither a loopback
// host nor listenAddr. A web page that points its own domain at 127.0.0.1
// (DNS rebinding) sends its domain in Host, so this keeps such pages away
// from the API.
func RestrictHosts(next http.Handler, listenAddr string) http.Handler {
	_, port, _ := net.SplitHostPort(listenAddr)
	allowed := map[string]bool{strings.ToLower(listenAddr): true}
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
		allowed[host+":"+port] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			writeJSON(w, http.StatusMisdirectedRequest, errorBody{Error: &apiError{
				Code:    CodeForbidden,
				Message: "This Hearth server answers only requests addressed to " + listenAddr + " or localhost.",
			}})
			return
		}
		next.ServeHTTP(w, r)
	})
}
