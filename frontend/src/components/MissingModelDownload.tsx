import { strings } from "../strings.ts";
import { useModelDownload } from "../useModelDownload.ts";
import { PullProgressView } from "./PullProgressView.tsx";

interface MissingModelDownloadProps {
  /** The model that the backend does not have. */
  model: string;
  /** Asks for the failed reply again. Offered once the model is downloaded. */
  onRetry: () => void;
  /** True while a reply of the thread is being written, which disables Retry. */
  busy: boolean;
}

/**
 * Offers, under a reply that failed because its model is not installed, to
 * download the model, shows the download's progress, and then offers to
 * retry the reply. The download lives in the workspace's store, so it goes
 * on while another thread is open, and every notice for the same model
 * shows it.
 */
export function MissingModelDownload({ model, onRetry, busy }: MissingModelDownloadProps) {
  const pull = useModelDownload(model);
  const { state } = pull;

  return (
    <div className="stack missing-model">
      {(state.phase === "idle" || state.phase === "failed" || state.phase === "cancelled") && (
        <div className="actions">
          <button type="button" className="primary" onClick={pull.start}>
            {strings.message.downloadModel(model)}
          </button>
        </div>
      )}
      {state.phase !== "done" && <PullProgressView state={state} onCancel={pull.cancel} />}
      {state.phase === "done" && (
        <div className="stack">
          <p role="status" className="notice">
            {strings.message.modelDownloaded(model)}
          </p>
          <div className="actions">
            <button
              type="button"
              className="primary"
              onClick={() => {
                pull.forget();
                onRetry();
              }}
              disabled={busy}
            >
              {strings.message.retry}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
