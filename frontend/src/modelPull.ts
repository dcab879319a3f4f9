// Reader for the progress of a model download, POST /api/models/pull: one
// JSON object per line (NDJSON), as Ollama's /api/pull sends them, such as
// {"status":"pulling manifest"}, {"status":"…","digest","total","completed"}
// and {"status":"success"}, or a last line {"error":{"code","message"}}.

import { ApiError, apiErrorFromBody, postModelPull } from "./api.ts";
import { strings } from "./strings.ts";

/** One progress line of a download. */
export interface PullStatusLine {
  status: string;
  /** The layer that total and completed count. */
  digest?: string;
  /** Size of the layer in bytes. */
  total?: number;
  /** Bytes of the layer downloaded so far. */
  completed?: number;
}

/** A line of the download's response: progress, or the error that ended it. */
export type PullLine = { kind: "status"; line: PullStatusLine } | { kind: "error"; error: ApiError };

/** A download response whose lines could not be read. */
export class PullStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PullStreamError";
  }
}

/** The status of the last line of a download that succeeded. */
export const pullSuccessStatus = "success";

/**
 * Incremental parser for the lines of a download response. Bytes may be
 * split anywhere across push calls, including inside a multi-byte UTF-8
 * character. Blank lines are skipped.
 */
export class PullStreamParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";

  /** Parses the next bytes and returns the lines they complete. */
  push(bytes: Uint8Array): PullLine[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    const lines: PullLine[] = [];
    let end = this.buffer.indexOf("\n");
    while (end !== -1) {
      const line = readLine(this.buffer.slice(0, end));
      if (line !== undefined) {
        lines.push(line);
      }
      this.buffer = this.buffer.slice(end + 1);
      end = this.buffer.indexOf("\n");
    }
    return lines;
  }

  /** Parses what is left when the response has ended: a last line may lack its line ending. */
  end(): PullLine[] {
    this.buffer += this.decoder.decode();
    const rest = this.buffer;
    this.buffer = "";
    const line = readLine(rest);
    return line === undefined ? [] : [line];
  }
}

/** The progress of a whole download, summed over its layers. */
export interface PullProgress {
  /** The status text of the last line, such as "pulling manifest". */
  status: string;
  /** Bytes downloaded, over every layer announced so far. */
  completed: number;
  /**
   * Bytes to download, over every layer announced so far, or 0 before the
   * first layer names its size. Ollama announces the layers one after
   * another, so this grows during a download of several layers.
   */
  total: number;
  /** Download speed over the last few seconds, or null until it can be measured. */
  bytesPerSecond: number | null;
  /** True once the "success" line arrived. */
  done: boolean;
}

/** Length, in milliseconds, of the stretch of time over which the download speed is measured. */
export const speedWindowMs = 3_000;

// The shortest stretch of time over which a speed is reported, so that the
// first two lines, a few milliseconds apart, do not give a wild number.
const minSpeedSpanMs = 500;

/** Sums the progress lines of a download and measures its speed. */
export class PullTracker {
  private readonly layers = new Map<string, { total: number; completed: number }>();
  private samples: Array<{ time: number; completed: number }> = [];
  private progress: PullProgress = { status: "", completed: 0, total: 0, bytesPerSecond: null, done: false };

  /** Adds a progress line that arrived at time now, in milliseconds, and returns the progress. */
  update(line: PullStatusLine, now: number): PullProgress {
    if (line.digest !== undefined && line.total !== undefined) {
      this.layers.set(line.digest, {
        total: line.total,
        completed: Math.min(line.completed ?? 0, line.total),
      });
    }
    let total = 0;
    let completed = 0;
    for (const layer of this.layers.values()) {
      total += layer.total;
      completed += layer.completed;
    }

    this.addSample(now, completed);
    this.progress = {
      status: line.status,
      completed,
      total,
      bytesPerSecond: this.speed(),
      done: line.status === pullSuccessStatus,
    };
    return this.progress;
  }

  /** Returns the progress after the last line. */
  current(): PullProgress {
    return this.progress;
  }

  private addSample(time: number, completed: number): void {
    // A layer that starts over, as Ollama does after a failed part, makes
    // the older samples meaningless for the speed.
    const last = this.samples.at(-1);
    if (last !== undefined && completed < last.completed) {
      this.samples = [];
    }
    this.samples.push({ time, completed });
    // Keep one sample at or before the start of the window, so that the
    // speed covers the whole window.
    while (this.samples.length > 2 && (this.samples[1]?.time ?? time) <= time - speedWindowMs) {
      this.samples.shift();
    }
  }

  private speed(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.time - first.time < minSpeedSpanMs) {
      return null;
    }
    return ((last.completed - first.completed) * 1000) / (last.time - first.time);
  }
}

/**
 * Returns how much of total is completed as a whole percentage from 0 to 100,
 * rounded down so that 100 means done, or null when total is unknown.
 */
export function percentDone(completed: number, total: number): number | null {
  if (total <= 0) {
    return null;
  }
  return Math.min(100, Math.max(0, Math.floor((completed / total) * 100)));
}

// Decimal units, as Ollama shows sizes.
const byteUnits = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

/**
 * Formats a number of bytes with the largest decimal unit (kB, MB, GB, TB)
 * that keeps the number at least 1, and at most one decimal, in the given
 * locale or the browser's when locale is undefined. Below 1 kB the unit is
 * spelled out, because the short form of "byte" does not take a plural.
 */
export function formatBytes(bytes: number, locale?: string): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < byteUnits.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: byteUnits[unit],
    unitDisplay: unit === 0 ? "long" : "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

/**
 * Downloads a model into the profile's Ollama server and calls onProgress
 * with the progress after each line. It resolves once the server reports
 * success. When the caller aborts, which cancels the download, it rejects
 * with the signal's AbortError. A refused request or an error line rejects
 * it with an ApiError, and a response that cannot be read or ends before
 * success with a PullStreamError.
 */
export async function pullModel(
  name: string,
  onProgress: (progress: PullProgress) => void,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<void> {
  const response = await postModelPull(name, signal);
  if (response.body === null) {
    throw new PullStreamError(strings.pull.unreadable);
  }

  const reader = response.body.getReader();
  const parser = new PullStreamParser();
  const tracker = new PullTracker();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const lines = done ? parser.end() : parser.push(value);
      for (const line of lines) {
        if (line.kind === "error") {
          throw line.error;
        }
        const progress = tracker.update(line.line, now());
        onProgress(progress);
        if (progress.done) {
          await reader.cancel();
          return;
        }
      }
      if (done) {
        throw new PullStreamError(strings.pull.endedEarly);
      }
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}

// readLine reads one line of the response, or returns undefined for a blank one.
function readLine(text: string): PullLine | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    throw new PullStreamError(strings.pull.unreadable);
  }

  const error = apiErrorFromBody(value, 200);
  if (error !== null) {
    return { kind: "error", error };
  }
  if (!isObject(value) || typeof value.status !== "string") {
    throw new PullStreamError(strings.pull.unreadable);
  }
  const line: PullStatusLine = { status: value.status };
  if (typeof value.digest === "string") {
    line.digest = value.digest;
  }
  if (isByteCount(value.total)) {
    line.total = value.total;
  }
  if (isByteCount(value.completed)) {
    line.completed = value.completed;
  }
  return { kind: "status", line };
}

function isByteCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
