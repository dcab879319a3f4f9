import { useId, useLayoutEffect, useRef, useState, type FormEvent } from "react";

import {
  ApiError,
  errorMessage,
  isLockedError,
  saveSettings,
  setIdleLock,
  type BackendKind,
  type RecallScope,
  type Settings,
  type ThemeChoice,
  type WorkingMemoryScope,
} from "../api.ts";
import {
  initialSettingsValues,
  settingsFieldFor,
  settingsFormFields,
  settingsLimits,
  settingsUpdateFrom,
  switchBackendKind,
  type BackendStash,
  type SettingsFormErrors,
  type SettingsFormField,
  type SettingsFormValues,
} from "../settingsForm.ts";
import { chatModelNames } from "../models.ts";
import { strings } from "../strings.ts";
import { valuesDiffer } from "../unsavedChanges.ts";
import type { ModelListState } from "../useModelList.ts";
import { ApiKeyField } from "./ApiKeyField.tsx";
import { FieldError } from "./FieldError.tsx";

interface SettingsFormProps {
  /** The stored settings. The inputs start with them. */
  settings: Settings;
  /** The profile's stored idle lock in minutes, 0 for never. */
  idleLockMinutes: number;
  /** The models of the saved backend, offered in the model inputs. */
  models: ModelListState;
  /** Called with the settings and the idle lock after the server stored the settings. */
  onSaved: (settings: Settings, idleLockMinutes: number) => void;
  /** Called when the backend kind chosen in the form changes. */
  onKindChange: (kind: BackendKind) => void;
  /** Called with true when the inputs come to differ from the stored settings, and with false when they match again. */
  onDirtyChange?: (dirty: boolean) => void;
}

// The choices of the form's radio groups, each with its label and hint.
const kindOptions: ReadonlyArray<{ value: BackendKind; label: string; hint: string }> = [
  { value: "ollama", label: strings.settings.kindOllama, hint: strings.settings.kindOllamaHint },
  { value: "openai", label: strings.settings.kindOpenAI, hint: strings.settings.kindOpenAIHint },
];
const scopeOptions: ReadonlyArray<{ value: WorkingMemoryScope; label: string; hint: string }> = [
  { value: "resource", label: strings.settings.scopeResource, hint: strings.settings.scopeResourceHint },
  { value: "thread", label: strings.settings.scopeThread, hint: strings.settings.scopeThreadHint },
];
const themeOptions: ReadonlyArray<{ value: ThemeChoice; label: string; hint: string }> = [
  { value: "system", label: strings.settings.themeSystem, hint: strings.settings.themeSystemHint },
  { value: "light", label: strings.settings.themeLight, hint: strings.settings.themeLightHint },
  { value: "dark", label: strings.settings.themeDark, hint: strings.settings.themeDarkHint },
];
const recallScopeOptions: ReadonlyArray<{ value: RecallScope; label: string }> = [
  { value: "resource", label: strings.settings.recallScopeResource },
  { value: "thread", label: strings.settings.recallScopeThread },
];

type FieldElement = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

/**
 * Form with the signed-in profile's settings: the model server and its
 * model, how replies are written, the working memory, the recall of earlier
 * messages, the theme and the idle lock. Errors of the server are shown
 * next to the input they name. The API key input is never filled in,
 * because the server does not return stored keys.
 */
export function SettingsForm({ settings, idleLockMinutes, models, onSaved, onKindChange, onDirtyChange }: SettingsFormProps) {
  const id = useId();
  const [values, setValues] = useState<SettingsFormValues>(() => initialSettingsValues(settings, idleLockMinutes));
  const [errors, setErrors] = useState<SettingsFormErrors>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const inputs = useRef<Partial<Record<SettingsFormField, FieldElement | null>>>({});
  const datalistId = `${id}-models`;
  // The server URL and model names typed for the other kind of backend.
  const [backendStash, setBackendStash] = useState<BackendStash>({});

  const dirty = valuesDiffer(values, initialSettingsValues(settings, idleLockMinutes));
  // A layout effect, so that the dialog has the new state before the next
  // key press, such as an Escape right after typing.
  useLayoutEffect(() => {
    onDirtyChange?.(dirty);
  }, [dirty, onDirtyChange]);

  function update<Field extends keyof SettingsFormValues>(field: Field, value: SettingsFormValues[Field]) {
    setValues((previous) => ({ ...previous, [field]: value }));
    setNotice(null);
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) {
      return;
    }
    setNotice(null);
    const checked = settingsUpdateFrom(values, settings);
    if ("errors" in checked) {
      showErrors(checked.errors);
      return;
    }

    setErrors({});
    setSaving(true);
    try {
      const saved = await saveSettings(checked.update);
      // The idle lock is a property of the profile, not of the settings
      // document, and is sent only when it changed.
      let savedIdleLock = idleLockMinutes;
      let idleLockError: string | null = null;
      if (checked.idleLockMinutes !== idleLockMinutes) {
        try {
          savedIdleLock = (await setIdleLock(checked.idleLockMinutes)).idleLockMinutes;
        } catch (err) {
          if (isLockedError(err)) {
            return;
          }
          idleLockError = strings.settings.idleLockFailed(errorMessage(err));
        }
      }
      const next = initialSettingsValues(saved, savedIdleLock);
      if (idleLockError === null) {
        setValues(next);
        setNotice(strings.settings.saved);
      } else {
        // The typed idle lock stays, so that it can be corrected.
        setValues({ ...next, idleLock: values.idleLock });
        showErrors({ idleLock: idleLockError });
      }
      onSaved(saved, savedIdleLock);
    } catch (err) {
      // A locked profile shows the unlock prompt, which closes this dialog.
      if (!isLockedError(err)) {
        const field = err instanceof ApiError ? settingsFieldFor(err.field) : "form";
        showErrors({ [field]: errorMessage(err) });
      }
    } finally {
      setSaving(false);
    }
  }

  // showErrors shows the errors and moves the focus to the first input in
  // error. An error of the whole form is announced by its alert instead.
  function showErrors(next: SettingsFormErrors) {
    setErrors(next);
    const first = settingsFormFields.find((field) => next[field] !== undefined);
    if (first !== undefined) {
      inputs.current[first]?.focus();
    }
  }

  function register(field: SettingsFormField) {
    return (element: FieldElement | null) => {
      inputs.current[field] = element;
    };
  }

  // describedBy returns the ids of an input's error and hint.
  function describedBy(field: SettingsFormField, hasHint: boolean): string | undefined {
    const ids = [errors[field] !== undefined ? `${id}-${field}-error` : null, hasHint ? `${id}-${field}-hint` : null];
    const joined = ids.filter((part) => part !== null).join(" ");
    return joined === "" ? undefined : joined;
  }

  function fieldFooter(field: SettingsFormField, hint: string | undefined) {
    return (
      <>
        <FieldError id={`${id}-${field}-error`} message={errors[field]} />
        {hint !== undefined && (
          <p id={`${id}-${field}-hint`} className="hint">
            {hint}
          </p>
        )}
      </>
    );
  }

  // textInput renders one labelled single-line input with its error and hint.
  function textInput(
    field: "baseUrl" | "model" | "temperature" | "contextLength" | "titleModel" | "lastMessages",
    label: string,
    options: { hint?: string; type?: "text" | "url"; placeholder?: string; inputMode?: "numeric" | "decimal"; list?: string } = {},
  ) {
    return (
      <div className="field">
        <label htmlFor={`${id}-${field}`}>{label}</label>
        <input
          ref={register(field)}
          id={`${id}-${field}`}
          type={options.type ?? "text"}
          inputMode={options.inputMode}
          placeholder={options.placeholder}
          list={options.list}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors[field] !== undefined}
          aria-describedby={describedBy(field, options.hint !== undefined)}
          value={values[field]}
          onChange={(event) => update(field, event.target.value)}
        />
        {fieldFooter(field, options.hint)}
      </div>
    );
  }

  function textArea(field: "systemPrompt" | "template", label: string, hint: string, placeholder: string) {
    return (
      <div className="field">
        <label htmlFor={`${id}-${field}`}>{label}</label>
        <textarea
          ref={register(field)}
          id={`${id}-${field}`}
          rows={6}
          placeholder={placeholder}
          aria-invalid={errors[field] !== undefined}
          aria-describedby={describedBy(field, true)}
          value={values[field]}
          onChange={(event) => update(field, event.target.value)}
        />
        {fieldFooter(field, hint)}
      </div>
    );
  }

  // numberInput renders one labelled input for a whole number from min to
  // max, with its error and hint.
  function numberInput(field: "topK" | "messageRange" | "idleLock", label: string, hint: string, min: number, max: number) {
    return (
      <div className="field">
        <label htmlFor={`${id}-${field}`}>{label}</label>
        <input
          ref={register(field)}
          id={`${id}-${field}`}
          className="number-input"
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          step={1}
          autoComplete="off"
          aria-invalid={errors[field] !== undefined}
          aria-describedby={describedBy(field, true)}
          value={values[field]}
          onChange={(event) => update(field, event.target.value)}
        />
        {fieldFooter(field, hint)}
      </div>
    );
  }

  function radioGroup<Value extends string>(
    field: "kind" | "scope" | "theme",
    legend: string,
    options: ReadonlyArray<{ value: Value; label: string; hint: string }>,
    chosen: Value,
    onChoose: (value: Value) => void,
  ) {
    return (
      <fieldset className="choices" aria-describedby={errors[field] !== undefined ? `${id}-${field}-error` : undefined}>
        <legend>{legend}</legend>
        {options.map((option, index) => (
          <div className="choice" key={option.value}>
            <input
              ref={index === 0 ? register(field) : undefined}
              id={`${id}-${field}-${option.value}`}
              type="radio"
              name={`${id}-${field}`}
              value={option.value}
              checked={chosen === option.value}
              aria-describedby={`${id}-${field}-${option.value}-hint`}
              onChange={() => onChoose(option.value)}
            />
            <div>
              <label htmlFor={`${id}-${field}-${option.value}`}>{option.label}</label>
              <p id={`${id}-${field}-${option.value}-hint`} className="hint">
                {option.hint}
              </p>
            </div>
          </div>
        ))}
        <FieldError id={`${id}-${field}-error`} message={errors[field]} />
      </fieldset>
    );
  }

  const modelNames = models.list?.models.map((model) => model.name) ?? [];
  // The list belongs to the saved backend, so it is offered only while the
  // form has the same kind, and without the models that cannot chat.
  const suggestedModels = models.list?.backend.kind === values.kind ? chatModelNames(models.list.models) : [];
  let modelsStatus: string = strings.settings.modelsLoading;
  if (!models.loading && models.error !== null) {
    modelsStatus = strings.settings.modelsUnreachable(models.error);
  } else if (!models.loading) {
    modelsStatus = modelNames.length === 0 ? strings.settings.modelsNone : strings.settings.modelsCount(modelNames.length);
  }

  return (
    <form className="stack settings-form" onSubmit={handleSubmit} noValidate aria-label={strings.settings.title}>
      <section className="stack" aria-labelledby={`${id}-backend`}>
        <h3 id={`${id}-backend`}>{strings.settings.backendTitle}</h3>
        {radioGroup("kind", strings.settings.kindLegend, kindOptions, values.kind, (kind) => {
          const switched = switchBackendKind(values, kind, backendStash, settings);
          setValues(switched.values);
          setBackendStash(switched.stash);
          setNotice(null);
          onKindChange(kind);
        })}
        {textInput("baseUrl", strings.settings.baseUrl, {
          type: "url",
          placeholder:
            values.kind === "ollama" ? strings.settings.baseUrlOllamaPlaceholder : strings.settings.baseUrlOpenAIPlaceholder,
        })}
        {values.kind === "openai" && (
          <ApiKeyField
            apiKeySet={settings.backend.apiKeySet}
            urlChanged={values.baseUrl.trim() !== settings.backend.baseUrl}
            action={values.apiKeyAction}
            value={values.apiKey}
            onActionChange={(action) => {
              update("apiKeyAction", action);
              update("apiKey", "");
            }}
            onValueChange={(value) => update("apiKey", value)}
            error={errors.apiKey}
            inputRef={register("apiKey")}
          />
        )}

        {textInput("model", strings.settings.model, { hint: strings.settings.modelHint, list: datalistId })}
        <datalist id={datalistId}>
          {suggestedModels.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <div className="models-status">
          <p className={models.error !== null && !models.loading ? "warning" : "hint"} role="status">
            {modelsStatus}
          </p>
          <button type="button" onClick={models.refresh} disabled={models.loading}>
            {strings.settings.modelsRefresh}
          </button>
        </div>
      </section>

      <section className="stack" aria-labelledby={`${id}-generation`}>
        <h3 id={`${id}-generation`}>{strings.settings.generationTitle}</h3>
        {textInput("temperature", strings.settings.temperature, {
          hint: strings.settings.temperatureHint,
          inputMode: "decimal",
        })}
        {textInput("contextLength", strings.settings.contextLength, {
          hint: strings.settings.contextLengthHint,
          inputMode: "numeric",
        })}
        {textInput("titleModel", strings.settings.titleModel, { hint: strings.settings.titleModelHint, list: datalistId })}
        {textArea("systemPrompt", strings.settings.systemPrompt, strings.settings.systemPromptHint, settings.defaults.systemPrompt)}
        {textInput("lastMessages", strings.settings.lastMessages, {
          hint: strings.settings.lastMessagesHint(settings.defaults.lastMessages),
          inputMode: "numeric",
        })}
      </section>

      <section className="stack" aria-labelledby={`${id}-working-memory`}>
        <h3 id={`${id}-working-memory`}>{strings.settings.workingMemoryTitle}</h3>
        {textArea(
          "template",
          strings.settings.template,
          strings.settings.templateHint,
          settings.defaults.workingMemoryTemplate,
        )}
        {radioGroup("scope", strings.settings.scopeLegend, scopeOptions, values.scope, (scope) => update("scope", scope))}
      </section>

      <section className="stack" aria-labelledby={`${id}-recall`}>
        <h3 id={`${id}-recall`}>{strings.settings.recallTitle}</h3>
        <p className="hint">{strings.settings.recallIntro}</p>
        <div className="field">
          <div className="switch">
            <input
              ref={register("recallEnabled")}
              id={`${id}-recallEnabled`}
              type="checkbox"
              role="switch"
              checked={values.recallEnabled}
              aria-invalid={errors.recallEnabled !== undefined}
              aria-describedby={describedBy("recallEnabled", true)}
              onChange={(event) => update("recallEnabled", event.target.checked)}
            />
            <label htmlFor={`${id}-recallEnabled`}>{strings.settings.recallEnabled}</label>
          </div>
          {fieldFooter("recallEnabled", strings.settings.recallEnabledHint)}
        </div>
        {numberInput(
          "topK",
          strings.settings.topK,
          strings.settings.topKHint(settingsLimits.minTopK, settingsLimits.maxTopK, settings.defaults.recall.topK),
          settingsLimits.minTopK,
          settingsLimits.maxTopK,
        )}
        {numberInput(
          "messageRange",
          strings.settings.messageRange,
          strings.settings.messageRangeHint(settingsLimits.maxMessageRange, settings.defaults.recall.messageRange),
          0,
          settingsLimits.maxMessageRange,
        )}
        <div className="field">
          <label htmlFor={`${id}-recallScope`}>{strings.settings.recallScope}</label>
          <select
            ref={register("recallScope")}
            id={`${id}-recallScope`}
            aria-invalid={errors.recallScope !== undefined}
            aria-describedby={describedBy("recallScope", true)}
            value={values.recallScope}
            onChange={(event) => update("recallScope", event.target.value === "thread" ? "thread" : "resource")}
          >
            {recallScopeOptions.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
          {fieldFooter("recallScope", strings.settings.recallScopeHint)}
        </div>
      </section>

      <section className="stack" aria-labelledby={`${id}-appearance`}>
        <h3 id={`${id}-appearance`}>{strings.settings.appearanceTitle}</h3>
        {radioGroup("theme", strings.settings.themeLegend, themeOptions, values.theme, (theme) => update("theme", theme))}
      </section>

      <section className="stack" aria-labelledby={`${id}-lock`}>
        <h3 id={`${id}-lock`}>{strings.settings.lockTitle}</h3>
        {numberInput(
          "idleLock",
          strings.settings.idleLock,
          strings.settings.idleLockHint(settingsLimits.maxIdleLockMinutes),
          0,
          settingsLimits.maxIdleLockMinutes,
        )}
      </section>

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
        <button type="submit" className="primary" disabled={saving}>
          {saving ? strings.settings.saving : strings.settings.save}
        </button>
      </div>
    </form>
  );
}
