// Command fake-ollama runs the fake Ollama server of package ollamatest as a
// separate process, for browser and desktop tests that cannot use it from Go.
//
// Usage:
//
//	fake-ollama [--addr 127.0.0.1:0]
//
// It listens on a loopback address and prints one line to standard output:
//
//	fake-ollama listening on http://127.0.0.1:PORT
//
// Besides the Ollama API it serves the control routes under /_fake/ that
// ollamatest.Server.ControlHandler documents. It logs to standard error and
// exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hearth/app/ollamatest"
)

// shutdownTimeout limits how long the command waits for open streams to
// finish after a signal.
const shutdownTimeout = 5 * time.Second

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, logger); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		logger.Error("fake-ollama failed", "error", err)
		os.Exit(1)
	}
}

// run serves the fake until ctx ends. It writes only the listening line to
// stdout.
func run(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	flags := flag.NewFlagSet("fake-ollama", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on; port 0 picks a free port")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: fake-ollama takes only --addr", flags.Args())
	}

	listener, err := listenLoopback(*addr)
	if err != nil {
		return err
	}

	fake := ollamatest.New()
	mux := http.NewServeMux()
	mux.Handle("/_fake/", fake.ControlHandler())
	mux.Handle("/", fake.Handler())
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}

	url := "http://" + listener.Addr().String()
	if _, err := fmt.Fprintf(stdout, "fake-ollama listening on %s\n", url); err != nil {
		listener.Close()
		return fmt.Errorf("print listening line: %w", err)
	}
	logger.Info("fake-ollama started", "url", url)

	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve %s: %w", url, err)
	case <-ctx.Done():
	}

	// Release held chats first, or Shutdown would wait for them until the
	// timeout.
	logger.Info("fake-ollama stopping", "url", url)
	fake.Release()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		server.Close()
		return fmt.Errorf("shut down %s: %w", url, err)
	}
	return nil
}

// listenLoopback listens on addr after checking that its host is
// "localhost" or a loopback IP address, because the fake has no
// authentication and must not be reachable from other machines.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid --addr %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("invalid --addr %q: host must be localhost or a loopback IP such as 127.0.0.1 or ::1", addr)
	}

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}

	// "localhost" could resolve to another address on a misconfigured host.
	if tcpAddr, ok := listener.Addr().(*net.TCPAddr); !ok || !tcpAddr.IP.IsLoopback() {
		listener.Close()
		return nil, fmt.Errorf("invalid --addr %q: it resolved to %s, which is not a loopback address", addr, listener.Addr())
	}
	return listener, nil
}
