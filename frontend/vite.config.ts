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
