import { useId, useState } from "react";

import { errorMessage, isLockedError, updateThread, type Thread } from "../api.ts";
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
 * Chooses the model that replies in one thread, from the models of the
 * profile's backend, or the profile's model. When the backend cannot list
 * its models, only the profile's model and the thread's own are offered.
 */
export function ThreadModelPicker({ threadId, model, onChanged }: ThreadModelPickerProps) {
  const id = useId();
  const models = useModelList();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const names = models.list?.models.map((entry) => entry.name) ?? [];
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

  return (
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
          <option value={model}>{models.list === null ? model : strings.chat.modelNotListed(model)}</option>
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
}
