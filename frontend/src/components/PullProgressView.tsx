import { useId } from "react";

import { formatBytes, percentDone } from "../modelPull.ts";
import { strings } from "../strings.ts";
import type { PullState } from "../usePullModel.ts";

interface PullProgressViewProps {
  state: PullState;
  onCancel: () => void;
}

/**
 * Shows a model download. While it runs, a progress bar shows the bytes done
 * of the total, the percentage and the speed, with a Cancel button. After it
 * ends, a sentence shows how it ended. Nothing is shown before a download starts.
 */
export function PullProgressView({ state, onCancel }: PullProgressViewProps) {
  const id = useId();

  switch (state.phase) {
    case "idle":
      return null;
    case "done":
      return (
        <p role="status" className="notice">
          {strings.pull.done(state.model)}
        </p>
      );
    case "cancelled":
      return (
        <p role="status" className="notice">
          {strings.pull.cancelled}
        </p>
      );
    case "failed":
      return (
        <p role="alert" className="alert">
          {strings.pull.failed(state.error)}
        </p>
      );
    case "running":
      break;
  }

  const { progress } = state;
  const percent = progress === null ? null : percentDone(progress.completed, progress.total);
  let detail: string = strings.pull.starting;
  if (progress !== null && percent !== null) {
    detail = strings.pull.progress(formatBytes(progress.completed), formatBytes(progress.total), percent);
  } else if (progress !== null && progress.completed > 0) {
    detail = strings.pull.progressUnknownTotal(formatBytes(progress.completed));
  }
  const speed =
    progress === null || progress.bytesPerSecond === null ? null : strings.pull.speed(formatBytes(progress.bytesPerSecond));

  return (
    <div className="stack pull-progress">
      <label htmlFor={`${id}-bar`}>{strings.pull.progressLabel(state.model)}</label>
      {/* Without a value the bar shows that work goes on, but not how much is done. */}
      {progress !== null && progress.total > 0 ? (
        <progress id={`${id}-bar`} max={progress.total} value={progress.completed} />
      ) : (
        <progress id={`${id}-bar`} />
      )}
      <p className="hint pull-detail">
        <span>{detail}</span>
        {speed !== null && <span className="pull-speed">{speed}</span>}
        {progress !== null && progress.status !== "" && <span className="pull-status">{progress.status}</span>}
      </p>
      <div className="actions">
        <button type="button" onClick={onCancel}>
          {strings.pull.cancel}
        </button>
      </div>
    </div>
  );
}
