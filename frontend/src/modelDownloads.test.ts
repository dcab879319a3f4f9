import { describe, expect, it } from "vitest";

import { ModelDownloads, type PullFunction } from "./modelDownloads.ts";
import type { PullProgress } from "./modelPull.ts";

// A download that the test controls: it reports progress, and ends when the test resolves or rejects it.
interface ControlledPull {
  onProgress: (progress: PullProgress) => void;
  signal: AbortSignal;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function controlledPulls(): { pull: PullFunction; calls: Map<string, ControlledPull[]> } {
  const calls = new Map<string, ControlledPull[]>();
  const pull: PullFunction = (model, onProgress, signal) =>
    new Promise<void>((resolve, reject) => {
      const call = { onProgress, signal, resolve, reject };
      calls.set(model, [...(calls.get(model) ?? []), call]);
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  return { pull, calls };
}

function progress(completed: number, total: number): PullProgress {
  return { status: "pulling", completed, total, bytesPerSecond: null, done: false };
}

// flush lets the promise callbacks of the store run.
async function flush(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe("ModelDownloads", () => {
  it("starts idle", () => {
    const downloads = new ModelDownloads(controlledPulls().pull);
    expect(downloads.get("llama3.2")).toEqual({ phase: "idle" });
  });

  it("reports progress and done", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    let changes = 0;
    downloads.subscribe(() => changes++);

    downloads.start("llama3.2");
    expect(downloads.get("llama3.2")).toEqual({ phase: "running", model: "llama3.2", progress: null });
    const call = calls.get("llama3.2")?.[0];
    expect(call).toBeDefined();
    call?.onProgress(progress(10, 100));
    expect(downloads.get("llama3.2")).toEqual({ phase: "running", model: "llama3.2", progress: progress(10, 100) });

    call?.resolve();
    await flush();
    expect(downloads.get("llama3.2")).toEqual({ phase: "done", model: "llama3.2" });
    expect(changes).toBe(3);
  });

  it("keeps the state object until it changes", () => {
    const downloads = new ModelDownloads(controlledPulls().pull);
    downloads.start("llama3.2");
    expect(downloads.get("llama3.2")).toBe(downloads.get("llama3.2"));
    expect(downloads.get("other")).toBe(downloads.get("other"));
  });

  it("runs one download per model", () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    downloads.start("llama3.2");
    downloads.start("llama3.2");
    downloads.start("qwen2.5:0.5b");
    expect(calls.get("llama3.2")).toHaveLength(1);
    expect(calls.get("qwen2.5:0.5b")).toHaveLength(1);
  });

  it("goes on after the listener leaves", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    const unsubscribe = downloads.subscribe(() => undefined);
    downloads.start("llama3.2");
    unsubscribe();

    const call = calls.get("llama3.2")?.[0];
    expect(call?.signal.aborted).toBe(false);
    call?.resolve();
    await flush();
    expect(downloads.get("llama3.2").phase).toBe("done");
  });

  it("cancel aborts and marks cancelled", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    downloads.start("llama3.2");
    downloads.cancel("llama3.2");
    expect(calls.get("llama3.2")?.[0]?.signal.aborted).toBe(true);
    await flush();
    expect(downloads.get("llama3.2")).toEqual({ phase: "cancelled", model: "llama3.2" });

    // A cancelled download can start again.
    downloads.start("llama3.2");
    expect(calls.get("llama3.2")).toHaveLength(2);
  });

  it("failure keeps the sentence", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    downloads.start("llama3.2");
    calls.get("llama3.2")?.[0]?.reject(new Error("Ollama is not reachable."));
    await flush();
    expect(downloads.get("llama3.2")).toEqual({ phase: "failed", model: "llama3.2", error: "Ollama is not reachable." });
  });

  it("forget clears a finished download only", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    downloads.start("llama3.2");
    downloads.forget("llama3.2");
    expect(downloads.get("llama3.2").phase).toBe("running");

    calls.get("llama3.2")?.[0]?.resolve();
    await flush();
    downloads.forget("llama3.2");
    expect(downloads.get("llama3.2")).toEqual({ phase: "idle" });
  });

  it("abortAll cancels every download", async () => {
    const { pull, calls } = controlledPulls();
    const downloads = new ModelDownloads(pull);
    downloads.start("llama3.2");
    downloads.start("qwen2.5:0.5b");
    downloads.abortAll();
    expect(calls.get("llama3.2")?.[0]?.signal.aborted).toBe(true);
    expect(calls.get("qwen2.5:0.5b")?.[0]?.signal.aborted).toBe(true);
    await flush();
    expect(downloads.get("llama3.2").phase).toBe("cancelled");
    expect(downloads.get("qwen2.5:0.5b").phase).toBe("cancelled");
  });
});
