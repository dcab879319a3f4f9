import { createContext, useCallback, useContext, useSyncExternalStore } from "react";

import type { ModelDownloads } from "./modelDownloads.ts";
import type { PullState } from "./usePullModel.ts";

/** The workspace's model downloads, which outlive the chat that started them. */
export const ModelDownloadsContext = createContext<ModelDownloads | null>(null);

/** One model's download in the workspace's store, with the functions that act on it. */
export interface ModelDownloadHandle {
  state: PullState;
  start: () => void;
  cancel: () => void;
  /** Forgets a finished download, so that the state is "idle" again. */
  forget: () => void;
}

/**
 * Returns the download of model from the nearest ModelDownloadsContext. It
 * throws when no provider is above the component, because a download
 * without the workspace's store would end when the component unmounts.
 */
export function useModelDownload(model: string): ModelDownloadHandle {
  const downloads = useContext(ModelDownloadsContext);
  if (downloads === null) {
    throw new Error("useModelDownload needs a ModelDownloadsContext provider");
  }
  const state = useSyncExternalStore(downloads.subscribe, () => downloads.get(model));
  const start = useCallback(() => downloads.start(model), [downloads, model]);
  const cancel = useCallback(() => downloads.cancel(model), [downloads, model]);
  const forget = useCallback(() => downloads.forget(model), [downloads, model]);
  return { state, start, cancel, forget };
}
