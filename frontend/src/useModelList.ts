import { useCallback, useEffect, useState } from "react";

import { errorMessage, isLockedError, listModels, type ModelList } from "./api.ts";

/** The models of the profile's backend, as a component shows them. */
export interface ModelListState {
  /** The last list fetched, or null before the first one arrives or after a failure. */
  list: ModelList | null;
  /** The sentence of the last failure, such as an unreachable backend, or null. */
  error: string | null;
  loading: boolean;
  /** Fetches the list again. */
  refresh: () => void;
}

/**
 * Fetches the models of the profile's backend when the component mounts and
 * on refresh. A response that arrives after a newer request was sent is
 * dropped. A locked profile shows no error, because the unlock prompt covers
 * the page.
 */
export function useModelList(): ModelListState {
  const [list, setList] = useState<ModelList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    listModels().then(
      (next) => {
        if (!cancelled) {
          setList(next);
          setError(null);
          setLoading(false);
        }
      },
      (err: unknown) => {
        if (!cancelled) {
          setList(null);
          setError(isLockedError(err) ? null : errorMessage(err));
          setLoading(false);
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [generation]);

  const refresh = useCallback(() => setGeneration((current) => current + 1), []);
  return { list, error, loading, refresh };
}
