import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "./api.ts";
import {
  PullStreamError,
  PullStreamParser,
  PullTracker,
  formatBytes,
  percentDone,
  pullModel,
  speedWindowMs,
  type PullLine,
  type PullProgress,
} from "./modelPull.ts";

const encoder = new TextEncoder();

// The lines of a pull of a model with two layers, as Ollama sends them.
const sampleLines = [
  { status: "pulling manifest" },
  { status: "pulling dde5aa3fc5ff", digest: "sha256:dde5", total: 2000, completed: 0 },
  { status: "pulling dde5aa3fc5ff", digest: "sha256:dde5", total: 2000, completed: 1000 },
  { status: "pulling dde5aa3fc5ff", digest: "sha256:dde5", total: 2000, completed: 2000 },
  { status: "pulling 966de95ca8a6", digest: "sha256:966d", total: 1000, completed: 1000 },
  { status: "verifying sha256 digest" },
  { status: "writing manifest" },
  { status: "success" },
];

function ndjson(lines: unknown[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join("");
}

function parseAll(chunks: Uint8Array[]): PullLine[] {
  const parser = new PullStreamParser();
  const lines: PullLine[] = [];
  for (const chunk of chunks) {
    lines.push(...parser.push(chunk));
  }
  lines.push(...parser.end());
  return lines;
}

function statuses(lines: PullLine[]): string[] {
  return lines.map((line) => (line.kind === "status" ? line.line.status : `error ${line.error.code}`));
}

describe("PullStreamParser", () => {
  it("parses every line", () => {
    const lines = parseAll([encoder.encode(ndjson(sampleLines))]);
    expect(statuses(lines)).toEqual(sampleLines.map((line) => line.status));
    expect(lines[2]).toEqual({
      kind: "status",
      line: { status: "pulling dde5aa3fc5ff", digest: "sha256:dde5", total: 2000, completed: 1000 },
    });
  });

  it("parses lines split at every byte offset", () => {
    const bytes = encoder.encode(ndjson(sampleLines));
    for (let offset = 0; offset <= bytes.length; offset++) {
      const lines = parseAll([bytes.slice(0, offset), bytes.slice(offset)]);
      expect(statuses(lines), `split at byte ${offset}`).toEqual(sampleLines.map((line) => line.status));
    }
  });

  it("reads a last line without a line ending", () => {
    const lines = parseAll([encoder.encode('{"status":"pulling manifest"}\n{"status":"success"}')]);
    expect(statuses(lines)).toEqual(["pulling manifest", "success"]);
  });

  it("skips blank lines and carriage returns", () => {
    const lines = parseAll([encoder.encode('\n{"status":"a"}\r\n\r\n{"status":"b"}\n')]);
    expect(statuses(lines)).toEqual(["a", "b"]);
  });

  it("reads an error line as an ApiError", () => {
    const lines = parseAll([
      encoder.encode('{"status":"pulling manifest"}\n{"error":{"code":"model_not_found","message":"No such model."}}\n'),
    ]);
    const last = lines[1];
    expect(last?.kind).toBe("error");
    if (last?.kind === "error") {
      expect(last.error).toBeInstanceOf(ApiError);
      expect(last.error.code).toBe("model_not_found");
      expect(last.error.message).toBe("No such model.");
    }
  });

  it("rejects a line that is not JSON", () => {
    expect(() => parseAll([encoder.encode("not json\n")])).toThrow(PullStreamError);
  });

  it("rejects a line without a status", () => {
    expect(() => parseAll([encoder.encode('{"digest":"x"}\n')])).toThrow(PullStreamError);
  });

  it("drops mistyped byte counts", () => {
    const lines = parseAll([encoder.encode('{"status":"x","digest":"d","total":"10","completed":-1}\n')]);
    expect(lines[0]).toEqual({ kind: "status", line: { status: "x", digest: "d" } });
  });
});

describe("PullTracker", () => {
  it("sums the layers announced so far", () => {
    const tracker = new PullTracker();
    const progress = sampleLines.map((line, index) => tracker.update(line, index * 1000));
    expect(progress[1]).toMatchObject({ completed: 0, total: 2000, done: false });
    expect(progress[2]).toMatchObject({ completed: 1000, total: 2000 });
    expect(progress[4]).toMatchObject({ completed: 3000, total: 3000 });
    expect(progress.at(-1)).toMatchObject({ status: "success", completed: 3000, total: 3000, done: true });
  });

  it("has no total before a layer names one", () => {
    const tracker = new PullTracker();
    expect(tracker.update({ status: "pulling manifest" }, 0)).toEqual({
      status: "pulling manifest",
      completed: 0,
      total: 0,
      bytesPerSecond: null,
      done: false,
    });
  });

  it("measures the speed over the window", () => {
    const tracker = new PullTracker();
    const layer = { status: "pulling", digest: "d", total: 100_000_000 };
    expect(tracker.update({ ...layer, completed: 0 }, 0).bytesPerSecond).toBeNull();
    // Less than half a second gives no speed yet.
    expect(tracker.update({ ...layer, completed: 1_000 }, 100).bytesPerSecond).toBeNull();
    expect(tracker.update({ ...layer, completed: 1_000_000 }, 1_000).bytesPerSecond).toBe(1_000_000);
    expect(tracker.update({ ...layer, completed: 2_000_000 }, 2_000).bytesPerSecond).toBe(1_000_000);
  });

  it("forgets samples older than the window", () => {
    const tracker = new PullTracker();
    const layer = { status: "pulling", digest: "d", total: 100_000_000 };
    // A slow start, then 4 MB/s for longer than the window.
    tracker.update({ ...layer, completed: 0 }, 0);
    tracker.update({ ...layer, completed: 1_000 }, 10_000);
    let progress: PullProgress | undefined;
    for (let second = 1; second <= 5; second++) {
      progress = tracker.update({ ...layer, completed: 1_000 + second * 4_000_000 }, 10_000 + second * 1_000);
    }
    expect(progress?.bytesPerSecond).toBe(4_000_000);
    expect(speedWindowMs).toBeLessThan(5_000);
  });

  it("starts the speed over when a layer starts over", () => {
    const tracker = new PullTracker();
    const layer = { status: "pulling", digest: "d", total: 10_000 };
    tracker.update({ ...layer, completed: 0 }, 0);
    tracker.update({ ...layer, completed: 5_000 }, 1_000);
    expect(tracker.update({ ...layer, completed: 100 }, 2_000).bytesPerSecond).toBeNull();
  });

  it("caps completed at the layer's total", () => {
    const tracker = new PullTracker();
    expect(tracker.update({ status: "pulling", digest: "d", total: 10, completed: 12 }, 0).completed).toBe(10);
  });
});

describe("percentDone", () => {
  it.each([
    { completed: 0, total: 0, want: null },
    { completed: 0, total: 100, want: 0 },
    { completed: 999, total: 1000, want: 99 },
    { completed: 1000, total: 1000, want: 100 },
    { completed: 2000, total: 1000, want: 100 },
  ])("counts $completed of $total as $want", ({ completed, total, want }) => {
    expect(percentDone(completed, total)).toBe(want);
  });
});

describe("formatBytes", () => {
  it.each([
    { bytes: 0, want: "0 bytes" },
    { bytes: 1, want: "1 byte" },
    { bytes: 999, want: "999 bytes" },
    { bytes: 1_500, want: "1.5 kB" },
    { bytes: 2_019_393_189, want: "2 GB" },
    { bytes: 1_234_567_890, want: "1.2 GB" },
    { bytes: 5_000_000_000_000_000, want: "5,000 TB" },
  ])("formats $bytes as $want", ({ bytes, want }) => {
    expect(formatBytes(bytes, "en-US")).toBe(want);
  });
});

describe("pullModel", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function stubPullResponse(body: string, status = 200) {
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) =>
      status === 200
        ? new Response(body, { status, headers: { "Content-Type": "application/x-ndjson" } })
        : new Response(body, { status, headers: { "Content-Type": "application/json" } }),
    );
    vi.stubGlobal("fetch", fetchMock);
    return fetchMock;
  }

  it("reports progress until success", async () => {
    const fetchMock = stubPullResponse(ndjson(sampleLines));
    const seen: PullProgress[] = [];
    let time = 0;
    await pullModel("llama3.2", (progress) => seen.push(progress), new AbortController().signal, () => (time += 1000));

    expect(seen).toHaveLength(sampleLines.length);
    expect(seen.at(-1)?.done).toBe(true);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/models/pull");
    expect(init?.method).toBe("POST");
    expect(init?.body).toBe(JSON.stringify({ name: "llama3.2" }));
    expect(new Headers(init?.headers).get("Accept")).toBe("application/x-ndjson");
  });

  it("rejects with the error line", async () => {
    stubPullResponse(ndjson([{ status: "pulling manifest" }, { error: { code: "backend_error", message: "Disk full." } }]));
    const pull = pullModel("llama3.2", () => undefined, new AbortController().signal);
    await expect(pull).rejects.toMatchObject({ code: "backend_error", message: "Disk full." });
  });

  it("rejects a response that ends early", async () => {
    stubPullResponse(ndjson(sampleLines.slice(0, 3)));
    await expect(pullModel("llama3.2", () => undefined, new AbortController().signal)).rejects.toBeInstanceOf(
      PullStreamError,
    );
  });

  it("rejects a refused request", async () => {
    stubPullResponse(JSON.stringify({ error: { code: "invalid_request", message: "Only Ollama can download models." } }), 400);
    await expect(pullModel("x", () => undefined, new AbortController().signal)).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
    });
  });
});
