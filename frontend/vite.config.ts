/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Go binary embeds dist/ and serves it both inside the desktop window and
// from `hearth serve`, so the build must not depend on the host name.
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "dist",
    // Vite empties dist/ before each build and then copies public/ into it,
    // which restores dist/.gitkeep: `go:embed all:frontend/dist` fails to
    // compile on a clean clone when that folder is empty.
    emptyOutDir: true,
    // Escapes every character outside ASCII, such as the "…" in strings.ts,
    // as \uXXXX. JavaScriptCore and V8 keep a script's source in memory with
    // one byte per character only while every character fits in Latin-1,
    // so one such character doubled the memory of its chunk's source. In
    // the desktop window after sign-in, this saved 0.4 MiB of anonymous PSS
    // in WebKitWebProcess (BenchmarkFootprint, WebKitGTK 2.50).
    rolldownOptions: { output: { charset: "ascii" } },
  },
  server: {
    // `npm run dev` forwards API calls to a `hearth serve` on its default address.
    proxy: { "/api": "http://127.0.0.1:8787" },
  },
  test: {
    // e2e/ contains the browser tests, which run under Node's own test runner.
    include: ["src/**/*.test.ts"],
  },
});
