import { useId, useState, type FormEvent } from "react";

import { strings } from "../strings.ts";
import { usePullModel } from "../usePullModel.ts";
import { FieldError } from "./FieldError.tsx";
import { PullProgressView } from "./PullProgressView.tsx";

interface ModelDownloadProps {
  /** Called after a model was downloaded, so that the list of models can be fetched again. */
  onDownloaded: (model: string) => void;
}

/**
 * Downloads a model by name into the profile's Ollama server, with the
 * download's progress and a Cancel button. It is its own form, apart from
 * the settings form, so that Enter in its input downloads instead of saving.
 */
export function ModelDownload({ onDownloaded }: ModelDownloadProps) {
  const id = useId();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const pull = usePullModel(onDownloaded);
  const running = pull.state.phase === "running";

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const model = name.trim();
    if (model === "") {
      setError(strings.settings.downloadNameMissing);
      return;
    }
    setError(undefined);
    pull.start(model);
  }

  return (
    <form className="stack model-download" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{strings.settings.downloadTitle}</h3>
      <div className="field">
        <label htmlFor={`${id}-name`}>{strings.settings.downloadName}</label>
        <div className="inline-field">
          <input
            id={`${id}-name`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={error !== undefined}
            aria-describedby={`${id}-hint${error !== undefined ? ` ${id}-error` : ""}`}
            value={name}
            disabled={running}
            onChange={(event) => setName(event.target.value)}
          />
          <button type="submit" disabled={running}>
            {strings.settings.downloadButton}
          </button>
        </div>
        <FieldError id={`${id}-error`} message={error} />
        <p id={`${id}-hint`} className="hint">
          {strings.settings.downloadHint}
        </p>
      </div>
      <PullProgressView state={pull.state} onCancel={pull.cancel} />
    </form>
  );
}
