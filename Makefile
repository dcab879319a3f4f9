# Build, run and test Hearth. On Debian 12 or Ubuntu with Go and Node
# installed, `make run` and `make test` install everything else they need.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# The test steps must run in the order written, even under make -j.
.NOTPARALLEL:

GO ?= go
NPM ?= npm

BIN := build/bin
ARTIFACTS := tmp

# Without the production tag, Wails builds a binary that only prints
# "Wails applications will not build without the correct build tags".
# webkit2_41 selects WebKitGTK 4.1, the version Debian 12 and Ubuntu 22.04+ ship.
DESKTOP_TAGS := desktop,production,webkit2_41
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -w -s -X main.version=$(VERSION)

# GTK and WebKitGTK headers for the desktop build; Xvfb, ImageMagick,
# x11-utils and xdotool for the desktop smoke test; Chromium for the browser
# end-to-end tests.
APT_PACKAGES := libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config build-essential \
	xvfb imagemagick x11-utils xdotool chromium

# The browser tests drive /usr/bin/chromium unless CHROMIUM_BIN names another.
CHROMIUM_BIN ?= $(firstword $(shell command -v chromium chromium-browser 2>/dev/null))

FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/e2e -type f 2>/dev/null) \
	frontend/index.html frontend/package.json frontend/vite.config.ts $(wildcard frontend/tsconfig*.json)
# npm ci writes node_modules/.package-lock.json, so it stands for the whole install.
NODE_MODULES := frontend/node_modules/.package-lock.json

.PHONY: deps system-packages build run test test-go test-frontend test-e2e test-desktop bench bench-check clean FORCE

# deps: install missing apt packages, the frontend's npm packages and the Go modules
deps: system-packages $(NODE_MODULES)
	$(GO) mod download

system-packages:
	@scripts/install-system-packages.sh $(APT_PACKAGES)

$(NODE_MODULES): frontend/package-lock.json
	cd frontend && $(NPM) ci
	touch $@

# build: build the frontend, the desktop binary and the fake Ollama used by the tests
build: $(BIN)/hearth $(BIN)/fake-ollama

frontend/dist/index.html: $(FRONTEND_SOURCES) $(NODE_MODULES)
	cd frontend && $(NPM) run build

# The Go binaries are always handed to go build, whose cache makes an
# unchanged rebuild take about a second.
$(BIN)/hearth: frontend/dist/index.html FORCE
	CGO_ENABLED=1 $(GO) build -tags $(DESKTOP_TAGS) -ldflags "$(LDFLAGS)" -o $@ .

$(BIN)/fake-ollama: FORCE
	$(GO) build -o $@ ./app/ollamatest/cmd/fake-ollama

# run: install, build and open the Hearth window
run: deps build
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
		echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset), so the Hearth window cannot open." >&2; \
		echo "Run $(BIN)/hearth serve instead and open http://127.0.0.1:8787 in a browser." >&2; \
		exit 1; \
	fi
	$(BIN)/hearth

# test: install, build, then run every check; screenshots and logs go to tmp/
test: deps build test-go test-frontend test-e2e test-desktop

# The recall_full test builds a 100,000 × 768 graph and checks its recall@10
# before and after deleting 10% of it, which took 2 min 42 s on a 2-core AMD
# EPYC VM. It runs in one goroutine, so it runs without -race, which would
# only slow it down.
# The load test has 20 clients chat with Hearth for 60 s and measures the
# time Hearth adds before the first token. It took 65 s with the compile on
# a 2-core Xeon VM. It runs without -race, which cut the chats completed
# to a third in a trial, so the figures would measure the race detector
# instead of Hearth. The race tests above cover the same chat path.
test-go:
	$(GO) vet ./...
	$(GO) vet -tags smoke .
	$(GO) vet -tags benchproc .
	$(GO) vet -tags benchfixture ./scripts/bench
	$(GO) vet -tags recall_full ./memory/vector
	$(GO) vet -tags load ./app
	$(GO) test -race ./...
	$(GO) test -tags recall_full -run TestHNSWRecallClusteredFullSize -count=1 -timeout 20m ./memory/vector
	$(GO) test -tags load -run TestLoad -count=1 -timeout 10m ./app

test-frontend: $(NODE_MODULES)
	cd frontend && $(NPM) run typecheck
	cd frontend && $(NPM) test

test-e2e: build
	cd frontend && HEARTH_BIN=$(abspath $(BIN)/hearth) FAKE_OLLAMA_BIN=$(abspath $(BIN)/fake-ollama) \
		E2E_ARTIFACTS=$(abspath $(ARTIFACTS)/e2e) $(if $(CHROMIUM_BIN),CHROMIUM_BIN=$(CHROMIUM_BIN)) \
		$(NPM) run test:e2e

# The smoke test starts its own Xvfb and writes to tmp/desktop-smoke/.
test-desktop: build
	HEARTH_DESKTOP_BIN=$(abspath $(BIN)/hearth) $(GO) test -tags smoke -run TestDesktopSmoke -count=1 -v .

# bench: build what the benchmarks start, run every benchmark suite of
# scripts/bench/spec.go and rewrite docs/benchmarks.json and
# docs/BENCHMARKS.md. BENCH_ONLY=auth,seal runs only the named suites, and
# the others keep their earlier results. Each suite's raw output, and the
# chat suite's CPU profile, go to tmp/bench/.
# A full run took 24 minutes on a 2-core VM on 2026-12-05, as the suites'
# durations in docs/BENCHMARKS.md add up: recall-profile 8, recall-graph 6,
# chat 5 and the others 5 together. The opt-in suite recall-1m builds graphs
# of 1,000,000 vectors, which takes about 3 hours, and runs only when
# BENCH_ONLY names it.
bench: deps build $(BIN)/bare-wails
	$(GO) run ./scripts/bench run $(if $(BENCH_ONLY),-only $(BENCH_ONLY))

# bench-check: print every figure of docs/benchmarks.json that missed its
# budget or was not measured, without running anything. It exits 0 unless
# BENCH_STRICT=1.
bench-check:
	$(GO) run ./scripts/bench check $(if $(filter 1,$(BENCH_STRICT)),-strict)

# The bare Wails window that the start and footprint benchmarks compare
# Hearth with, built with Hearth's build tags and linker flags.
$(BIN)/bare-wails: FORCE
	CGO_ENABLED=1 $(GO) build -tags $(DESKTOP_TAGS) -ldflags "-w -s" -o $@ ./scripts/bench/barewails

# clean: remove the binaries, the built frontend and the test artifacts
clean:
	rm -rf $(BIN) $(ARTIFACTS)
	find frontend/dist -mindepth 1 ! -name .gitkeep -delete

FORCE:
