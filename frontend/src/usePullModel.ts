import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "./api.ts";
import { pullModel, type PullProgress } from "./modelPull.ts";

/** The state of one model download as a component shows it. */
export type PullState =
  | { phase: "idle" }
  | { phase: "running"; model: string; progress: PullProgress | null }
  | { phase: "done"; model: string }
  | { phase: "cancelled"; model: string }
  | { phase: "failed"; model: string; error: string };

/** A model download and the functions that start and cancel it. */
export interface ModelPull {
  state: PullState;
  /** Starts downloading model, unless a download is running. */
  start: (model: string) => void;
  /** Cancels the running download, which aborts its request. */
  cancel: () => void;
}

/**
 * Runs one model download at a time for a component. Unmounting the
 * component aborts a running download, which makes the server cancel it.
 * onDone is called after a download that succeeded.
 */
export function usePullModel(onDone?: (model: string) => void): ModelPull {
  const [state, setState] = useState<PullState>({ phase: "idle" });
  const controller = useRef<AbortController | null>(null);
  const doneHandler = useRef(onDone);

  useEffect(() => {
    doneHandler.current = onDone;
  });

  useEffect(() => {
    return () => controller.current?.abort();
  }, []);

  const start = useCallback((model: string) => {
    if (controller.current !== null) {
      return;
    }
    const current = new AbortController();
    controller.current = current;
    setState({ phase: "running", model, progress: null });

    pullModel(model, (progress) => setState({ phase: "running", model, progress }), current.signal).then(
      () => {
        controller.current = null;
        setState({ phase: "done", model });
        doneHandler.current?.(model);
      },
      (err: unknown) => {
        controller.current = null;
        if (current.signal.aborted) {
          setState({ phase: "cancelled", model });
        } else {
          setState({ phase: "failed", model, error: errorMessage(err) });
        }
      },
    );
  }, []);

  const cancel = useCallback(() => {
    controller.current?.abort();
  }, []);

  return { state, start, cancel };
}
