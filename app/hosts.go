package app

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// NewServer returns the HTTP server of hearth serve: handler behind
// RestrictHosts for listenAddr, the address the listener is bound to, with a
// bound on the time a client may take to send its headers. Replies stream
// for minutes, so no write or idle timeout applies.
func NewServer(handler http.Handler, listenAddr string, allowRemote bool) *http.Server {
	return &http.Server{
		Handler:           RestrictHosts(handler, listenAddr, allowRemote),
		ReadHeaderTimeout: 10 * time.Second,
	}
}

// RestrictHosts rejects requests whose Host header names neither a loopback
// host nor listenAddr. A web page that points its own domain at 127.0.0.1
// (DNS rebinding) sends its domain in Host, so this keeps such pages away
// from the API. With allowRemote, any IP address on the listening port is
// accepted too, so that other computers can reach the server by address;
// domain names other than localhost stay rejected.
func RestrictHosts(next http.Handler, listenAddr string, allowRemote bool) http.Handler {
	_, port, _ := net.SplitHostPort(listenAddr)
	allowed := map[string]bool{strings.ToLower(listenAddr): true}
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
		allowed[host+":"+port] = true
	}
	accepts := func(hostHeader string) bool {
		if allowed[strings.ToLower(hostHeader)] {
			return true
		}
		host, hostPort, err := net.SplitHostPort(hostHeader)
		return allowRemote && err == nil && hostPort == port && net.ParseIP(host) != nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accepts(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, errorBody{Error: &apiError{
				Code:    CodeForbidden,
				Message: "This Hearth server answers only requests addressed to " + listenAddr + " or localhost.",
			}})
			return
		}
		next.ServeHTTP(w, r)
	})
}
