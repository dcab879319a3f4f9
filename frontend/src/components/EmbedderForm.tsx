import { useId, useLayoutEffect, useRef, useState, type FormEvent } from "react";

import { ApiError, chooseEmbedder, errorMessage, isLockedError, type EmbedderKind, type RecallSettings } from "../api.ts";
import {
  apiKeyHint,
  embedderChoiceFrom,
  embedderFormFields,
  formFieldFor,
  initialFormValues,
  type EmbedderFormErrors,
  type EmbedderFormField,
  type EmbedderFormValues,
} from "../embedderForm.ts";
import { describeEmbedder } from "../recall.ts";
import { strings } from "../strings.ts";
import { valuesDiffer } from "../unsavedChanges.ts";
import { FieldError } from "./FieldError.tsx";

interface EmbedderFormProps {
  /** The settings when the form opens. Its inputs start with the embedder in use. */
  settings: RecallSettings;
  /** Called with the new settings after the server accepted the embedder. */
  onChosen: (settings: RecallSettings) => void;
  /** Called with true when the inputs come to differ from the embedder in use, and with false when they match again. */
  onDirtyChange?: (dirty: boolean) => void;
}

// The kinds in the order the form offers them, each with its label and hint.
const kindOptions: ReadonlyArray<{ kind: EmbedderKind; label: string; hint: string }> = [
  { kind: "builtin", label: strings.embedder.builtin, hint: strings.embedder.builtinHint },
  { kind: "ollama", label: strings.embedder.ollama, hint: strings.embedder.ollamaHint },
  { kind: "openai", label: strings.embedder.openai, hint: strings.embedder.openaiHint },
];

/**
 * Form that chooses the embedder of the signed-in profile: the built-in one,
 * an Ollama model, or an OpenAI-compatible server. The server tests the
 * embedder before it accepts it, and its errors are shown next to the input
 * they name. The API key input is never filled in, because the server does
 * not return stored keys.
 */
export function EmbedderForm({ settings, onChosen, onDirtyChange }: EmbedderFormProps) {
  const id = useId();
  const [values, setValues] = useState<EmbedderFormValues>(() => initialFormValues(settings));
  // The values of the embedder in use: those the form opened with, or the
  // last ones the server accepted.
  const [savedValues, setSavedValues] = useState(values);
  const [errors, setErrors] = useState<EmbedderFormErrors>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const inputs = useRef<Partial<Record<EmbedderFormField, HTMLInputElement | null>>>({});

  const dirty = valuesDiffer(values, savedValues);
  // A layout effect, so that the dialog has the new state before the next
  // key press, such as an Escape right after typing.
  useLayoutEffect(() => {
    onDirtyChange?.(dirty);
  }, [dirty, onDirtyChange]);

  function update<Field extends keyof EmbedderFormValues>(field: Field, value: EmbedderFormValues[Field]) {
    setValues((previous) => ({ ...previous, [field]: value }));
  }

  // chooseKind shows the inputs of another kind. The errors and the notice
  // were about the kind chosen before, so they go.
  function chooseKind(kind: EmbedderKind) {
    update("kind", kind);
    setErrors({});
    setNotice(null);
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) {
      return;
    }
    setNotice(null);
    const checked = embedderChoiceFrom(values);
    if ("errors" in checked) {
      showErrors(checked.errors);
      return;
    }

    setErrors({});
    setSubmitting(true);
    try {
      const next = await chooseEmbedder(checked.choice);
      setValues((previous) => ({ ...previous, apiKey: "" }));
      setSavedValues({ ...values, apiKey: "" });
      setNotice(strings.embedder.chosen(describeEmbedder(next.embedder)));
      onChosen(next);
    } catch (err) {
      // A locked profile shows the unlock prompt, which closes this dialog.
      if (!isLockedError(err)) {
        const field = err instanceof ApiError ? formFieldFor(err.field, values.kind) : "form";
        showErrors({ [field]: errorMessage(err) });
      }
    } finally {
      setSubmitting(false);
    }
  }

  // showErrors shows the errors and moves the focus to the first input in
  // error. An error of the whole form is announced by its alert instead.
  function showErrors(next: EmbedderFormErrors) {
    setErrors(next);
    const first = embedderFormFields.find((field) => next[field] !== undefined);
    if (first !== undefined) {
      inputs.current[first]?.focus();
    }
  }

  // textInput renders one labelled text input of the form, with its hint and
  // its error under it.
  function textInput(
    field: Exclude<EmbedderFormField, "kind">,
    label: string,
    options: { hint?: string; type?: "text" | "url" | "password"; placeholder?: string; inputMode?: "numeric" } = {},
  ) {
    const inputId = `${id}-${field}`;
    const describedBy = [
      errors[field] !== undefined ? `${inputId}-error` : null,
      options.hint !== undefined ? `${inputId}-hint` : null,
    ].filter((part) => part !== null);
    return (
      <div className="field">
        <label htmlFor={inputId}>{label}</label>
        <input
          ref={(element) => {
            inputs.current[field] = element;
          }}
          id={inputId}
          type={options.type ?? "text"}
          inputMode={options.inputMode}
          placeholder={options.placeholder}
          autoComplete={options.type === "password" ? "new-password" : "off"}
          spellCheck={false}
          aria-invalid={errors[field] !== undefined}
          aria-describedby={describedBy.length > 0 ? describedBy.join(" ") : undefined}
          value={values[field]}
          onChange={(event) => update(field, event.target.value)}
        />
        <FieldError id={`${inputId}-error`} message={errors[field]} />
        {options.hint !== undefined && (
          <p id={`${inputId}-hint`} className="hint">
            {options.hint}
          </p>
        )}
      </div>
    );
  }

  const ollamaModel = values.ollamaModel.trim() || settings.suggestion;
  const keyHint = apiKeyHint(settings, values.openaiUrl);

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{strings.embedder.title}</h3>

      <fieldset className="choices" aria-describedby={errors.kind !== undefined ? `${id}-kind-error` : undefined}>
        <legend>{strings.embedder.kindLegend}</legend>
        {kindOptions.map((option, index) => (
          <div className="choice" key={option.kind}>
            <input
              ref={
                index === 0
                  ? (element) => {
                      inputs.current.kind = element;
                    }
                  : undefined
              }
              id={`${id}-kind-${option.kind}`}
              type="radio"
              name={`${id}-kind`}
              value={option.kind}
              checked={values.kind === option.kind}
              aria-describedby={`${id}-kind-${option.kind}-hint`}
              onChange={() => chooseKind(option.kind)}
            />
            <div>
              <label htmlFor={`${id}-kind-${option.kind}`}>{option.label}</label>
              <p id={`${id}-kind-${option.kind}-hint`} className="hint">
                {option.hint}
              </p>
            </div>
          </div>
        ))}
        <FieldError id={`${id}-kind-error`} message={errors.kind} />
      </fieldset>

      {values.kind === "ollama" && (
        <>
          {textInput("ollamaModel", strings.embedder.ollamaModel, {
            hint: strings.embedder.ollamaModelHint(ollamaModel),
          })}
          {textInput("ollamaUrl", strings.embedder.ollamaUrl, { type: "url", hint: strings.embedder.ollamaUrlHint })}
        </>
      )}

      {values.kind === "openai" && (
        <>
          {textInput("openaiUrl", strings.embedder.openaiUrl, {
            type: "url",
            placeholder: strings.embedder.openaiUrlPlaceholder,
          })}
          {textInput("openaiModel", strings.embedder.openaiModel, {
            placeholder: strings.embedder.openaiModelPlaceholder,
          })}
          {textInput("apiKey", strings.embedder.apiKey, {
            type: "password",
            hint: keyHint,
          })}
          {textInput("dimensions", strings.embedder.dimensions, {
            inputMode: "numeric",
            hint: strings.embedder.dimensionsHint,
          })}
        </>
      )}

      {errors.form !== undefined && (
        <p role="alert" className="alert">
          {errors.form}
        </p>
      )}
      {notice !== null && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? strings.embedder.submitting : strings.embedder.submit}
        </button>
      </div>
    </form>
  );
}

