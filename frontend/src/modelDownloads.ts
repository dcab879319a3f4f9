// The model downloads started from the chat, kept by the workspace so that
// they go on while another thread is open.

import { errorMessage } from "./api.ts";
import { pullModel, type PullProgress } from "./modelPull.ts";
import type { PullState } from "./usePullModel.ts";

/** Downloads a model, as pullModel does. */
export type PullFunction = (
  model: string,
  onProgress: (progress: PullProgress) => void,
  signal: AbortSignal,
) => Promise<void>;

const idle: PullState = { phase: "idle" };

/**
 * The downloads of models by name, at most one per model. A component reads
 * a model's state with get and subscribe (for useSyncExternalStore), which
 * returns the same object until the state changes. Unlike usePullModel, a
 * download here does not end when the component that started it unmounts:
 * only cancel and abortAll end it.
 */
export class ModelDownloads {
  private readonly states = new Map<string, PullState>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly listeners = new Set<() => void>();
  private readonly pull: PullFunction;

  constructor(pull: PullFunction = pullModel) {
    this.pull = pull;
  }

  /** Returns the state of model's download, "idle" when none was started. */
  get(model: string): PullState {
    return this.states.get(model) ?? idle;
  }

  /** Adds a listener called after every change, and returns the function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Starts downloading model, unless its download is running. */
  start(model: string): void {
    if (this.controllers.has(model)) {
      return;
    }
    const controller = new AbortController();
    this.controllers.set(model, controller);
    this.set(model, { phase: "running", model, progress: null });

    this.pull(model, (progress) => this.set(model, { phase: "running", model, progress }), controller.signal).then(
      () => {
        this.controllers.delete(model);
        this.set(model, { phase: "done", model });
      },
      (err: unknown) => {
        this.controllers.delete(model);
        if (controller.signal.aborted) {
          this.set(model, { phase: "cancelled", model });
        } else {
          this.set(model, { phase: "failed", model, error: errorMessage(err) });
        }
      },
    );
  }

  /** Cancels model's running download, which aborts its request. */
  cancel(model: string): void {
    this.controllers.get(model)?.abort();
  }

  /**
   * Forgets how model's finished download ended, so that its state is
   * "idle" again. A running download is kept. The chat calls it when Retry
   * uses the downloaded model: should the model be missing again later, its
   * notice offers the download again instead of a Retry that cannot work.
   */
  forget(model: string): void {
    if (!this.controllers.has(model) && this.states.delete(model)) {
      this.notify();
    }
  }

  /** Cancels every running download, as when the workspace closes. */
  abortAll(): void {
    for (const controller of this.controllers.values()) {
      controller.abort();
    }
  }

  private set(model: string, state: PullState): void {
    this.states.set(model, state);
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }
}
