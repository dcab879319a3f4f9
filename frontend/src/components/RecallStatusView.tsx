import { useId } from "react";

import type { RecallSettings } from "../api.ts";
import { describeEmbedder } from "../recall.ts";
import { strings } from "../strings.ts";

interface RecallStatusViewProps {
  settings: RecallSettings;
  /**
   * Id of the embedder whose re-embedding finished while the dialog was
   * open, or null. It is announced once the progress bar is gone.
   */
  finishedWith: string | null;
}

/**
 * Shows the state of the profile's recall: how many messages it can find and
 * how many wait to be embedded, and the embedder in use. After a change of
 * embedder it also shows the progress of embedding every message again, and
 * it shows the last embedding error.
 */
export function RecallStatusView({ settings, finishedWith }: RecallStatusViewProps) {
  const id = useId();
  const { status } = settings;
  const { reembedding } = status;

  return (
    <section className="stack recall-status" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{strings.memory.statusTitle}</h3>

      <dl className="facts">
        <div>
          <dt>{strings.memory.stateLabel}</dt>
          <dd>{strings.memory.states[status.state] ?? status.state}</dd>
        </div>
        <div>
          <dt>{strings.memory.vectorsLabel}</dt>
          <dd>{status.vectors}</dd>
        </div>
        <div>
          <dt>{strings.memory.pendingLabel}</dt>
          <dd>{status.pending}</dd>
        </div>
        <div>
          <dt>{strings.memory.embedderLabel}</dt>
          <dd>
            {describeEmbedder(settings.embedder)}
            {status.embedder !== undefined && (
              <span className="muted embedder-id">{strings.memory.embedderId(status.embedder, status.dimension)}</span>
            )}
          </dd>
        </div>
      </dl>

      {reembedding !== undefined && (
        <div className="stack reembedding">
          <label htmlFor={`${id}-progress`}>{strings.memory.reembedding(reembedding.done, reembedding.total)}</label>
          {/* Without a value the bar shows that work goes on, but not how much is done. */}
          {reembedding.total > 0 ? (
            <progress id={`${id}-progress`} max={reembedding.total} value={reembedding.done} />
          ) : (
            <progress id={`${id}-progress`} />
          )}
          <p className="hint">{strings.memory.reembeddingNote(reembedding.from)}</p>
        </div>
      )}
      {reembedding === undefined && finishedWith !== null && (
        <p role="status" className="notice">
          {strings.memory.reembedded(finishedWith)}
        </p>
      )}

      {status.lastError !== undefined && status.lastError !== "" && (
        <p className="warning">{strings.memory.lastError(status.lastError)}</p>
      )}
    </section>
  );
}
