import { useId, useState } from "react";

import { errorMessage, isLockedError, updateThread, type Thread } from "../api.ts";
import { chatModelNames } from "../models.ts";
import { strings } from "../strings.ts";
import { useModelList } from "../useModelList.ts";

interface ThreadModelPickerProps {
  threadId: string;
  /** The thread's model, or "" for the profile's model. */
  model: string;
  /** Called with the thread after the server stored its new model. */
  onChanged: (thread: Thread) => void;
}

/**
 * Chooses the model that replies in one thread, from the chat models of the
 * profile's backend, or the profile's model. Embedding-only models are left
 * out. When the backend cannot list its models, only the profile's model
 * and the thread's own are offered. A notice under the header then shows the
 * backend's error, which names what to do next, with Try again.
 */
export function ThreadModelPicker({ threadId, model, onChanged }: ThreadModelPickerProps) {
  const id = useId();
  const models = useModelList();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const listedNames = models.list?.models.map((entry) => entry.name) ?? [];
  const names = chatModelNames(models.list?.models ?? []);
  const profileModel = models.list?.backend.model ?? "";

  async function choose(next: string) {
    setSaving(true);
    setError(null);
    try {
      onChanged(await updateThread(threadId, { model: next }));
    } catch (err) {
      if (!isLockedError(err)) {
        setError(strings.chat.modelChangeFailed(errorMessage(err)));
      }
    } finally {
      setSaving(false);
    }
  }

  const picker = (
    <div className="thread-model">
      <label htmlFor={`${id}-model`} className="visually-hidden">
        {strings.chat.modelLabel}
      </label>
      <select
        id={`${id}-model`}
        value={model}
        disabled={saving}
        aria-describedby={error === null ? undefined : `${id}-error`}
        onChange={(event) => void choose(event.target.value)}
      >
        <option value="">{strings.chat.profileModel(profileModel)}</option>
        {model !== "" && !names.includes(model) && (
          <option value={model}>
            {models.list === null || listedNames.includes(model) ? model : strings.chat.modelNotListed(model)}
          </option>
        )}
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      {error !== null && (
        <p id={`${id}-error`} role="alert" className="field-error">
          {error}
        </p>
      )}
    </div>
  );

  return (
    <>
      {picker}
      {!models.loading && models.error !== null && (
        <div className="backend-problem" role="status">
          <p className="warning">{models.error}</p>
          <button type="button" onClick={models.refresh}>
            {strings.chat.backendProblemRetry}
          </button>
        </div>
      )}
    </>
  );
}
