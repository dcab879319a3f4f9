package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"hearth/app"
)

const defaultServeAddr = "127.0.0.1:8787"

// shutdownTimeout is how long hearth serve waits for open requests when it is
// asked to stop.
const shutdownTimeout = 5 * time.Second

// runServe serves the interface and the API on opts.addr until SIGINT or
// SIGTERM.
func runServe(opts config) error {
	host, _, err := net.SplitHostPort(opts.addr)
	if err != nil {
		return fmt.Errorf("invalid --addr %q: use HOST:PORT such as %s", opts.addr, defaultServeAddr)
	}
	if !isLoopback(host) && !opts.allowRemote {
		return fmt.Errorf("--addr %s can be reached from other computers; use a loopback address such as %s, or add --allow-remote if you mean it", opts.addr, defaultServeAddr)
	}

	log, logFile, err := newLogger(opts.dataDir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	releaseStartupPages(log)

	a, err := openApp(opts, log)
	if err != nil {
		log.Error("start failed", "err", err)
		return err
	}
	defer closeApp(a, opts.dataDir, log)

	listener, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; choose another port with --addr", opts.addr, err)
	}
	url := "http://" + listener.Addr().String()
	srv := app.NewServer(a.Handler(), listener.Addr().String(), opts.allowRemote)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(listener) }()

	log.Info("serving", "url", url, "data", opts.dataDir, "backend", app.RedactURL(opts.ollamaURL), "model", opts.model)
	fmt.Printf("Hearth is serving on %s\n", url)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve on %s: %w", url, err)
	case <-ctx.Done():
	}
	log.Info("stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	a.StopReplies(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop server: %w", err)
	}
	return nil
}

// isLoopback reports whether host names this computer only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
