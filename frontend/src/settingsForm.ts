// The values of the Settings dialog's form, their checks, the request they
// make, and which input an error of the server belongs to.

import type { BackendKind, RecallScope, Settings, SettingsUpdate, ThemeChoice, WorkingMemoryScope } from "./api.ts";
import { strings } from "./strings.ts";

/** The action that saving takes on the stored API key. */
export type ApiKeyAction = "keep" | "replace" | "remove";

/** The text of the form's inputs, as typed, and its choices. */
export interface SettingsFormValues {
  kind: BackendKind;
  baseUrl: string;
  model: string;
  apiKeyAction: ApiKeyAction;
  /** The new key for "replace". Never filled from the server, which does not return stored keys. */
  apiKey: string;
  temperature: string;
  contextLength: string;
  titleModel: string;
  systemPrompt: string;
  lastMessages: string;
  template: string;
  scope: WorkingMemoryScope;
  recallEnabled: boolean;
  topK: string;
  messageRange: string;
  recallScope: RecallScope;
  theme: ThemeChoice;
  /** Minutes without use that lock the profile, saved with PATCH /api/auth/me rather than in the settings. */
  idleLock: string;
}

/** An input of the settings form. */
export type SettingsFormField =
  | "kind"
  | "baseUrl"
  | "model"
  | "apiKey"
  | "temperature"
  | "contextLength"
  | "titleModel"
  | "systemPrompt"
  | "lastMessages"
  | "template"
  | "scope"
  | "recallEnabled"
  | "topK"
  | "messageRange"
  | "recallScope"
  | "theme"
  | "idleLock";

/** One sentence per input in error, and one under "form" for an error that names no input. */
export type SettingsFormErrors = Partial<Record<SettingsFormField | "form", string>>;

/** The inputs in the order the form shows them, which is the order the focus visits errors. */
export const settingsFormFields: readonly SettingsFormField[] = [
  "kind",
  "baseUrl",
  "apiKey",
  "model",
  "temperature",
  "contextLength",
  "titleModel",
  "systemPrompt",
  "lastMessages",
  "template",
  "scope",
  "recallEnabled",
  "topK",
  "messageRange",
  "recallScope",
  "theme",
  "idleLock",
];

/** Limits of the numeric settings, as the server checks them. */
export const settingsLimits = {
  maxTemperature: 2,
  minContextLength: 512,
  maxContextLength: 1_048_576,
  maxLastMessages: 200,
  minTopK: 1,
  maxTopK: 50,
  maxMessageRange: 10,
  /** One week. */
  maxIdleLockMinutes: 10_080,
} as const;

/** The request bodies that saving the form sends: the settings document and the idle lock. */
export interface SettingsSave {
  update: SettingsUpdate;
  idleLockMinutes: number;
}

/**
 * Returns the form's first values: those of the stored settings and the
 * profile's idle lock, with an empty API key input that keeps the stored
 * key, if any.
 */
export function initialSettingsValues(settings: Settings, idleLockMinutes: number): SettingsFormValues {
  return {
    kind: settings.backend.kind,
    baseUrl: settings.backend.baseUrl,
    model: settings.backend.model,
    apiKeyAction: settings.backend.apiKeySet ? "keep" : "replace",
    apiKey: "",
    temperature: settings.temperature === null ? "" : String(settings.temperature),
    contextLength: String(settings.contextLength),
    titleModel: settings.titleModel,
    systemPrompt: settings.systemPrompt,
    lastMessages: String(settings.lastMessages),
    template: settings.workingMemory.template,
    scope: settings.workingMemory.scope,
    recallEnabled: settings.recall.enabled,
    topK: String(settings.recall.topK),
    messageRange: String(settings.recall.messageRange),
    recallScope: settings.recall.scope,
    theme: settings.theme,
    idleLock: String(idleLockMinutes),
  };
}

/** The inputs that belong to one kind of backend: its server URL and the names of its models. */
export type BackendFields = Pick<SettingsFormValues, "baseUrl" | "model" | "titleModel">;

/** The backend inputs last typed for each kind of backend, kept while the form switches between kinds. */
export type BackendStash = Partial<Record<BackendKind, BackendFields>>;

/**
 * Returns the values after the backend kind changes to kind, with the stash
 * updated. The server URL and model names typed for the kind left go into
 * the stash, and those of kind come out of it. A kind not in the stash
 * starts from the stored settings when they are of that kind, and from
 * empty inputs otherwise. So an Ollama URL or model is never sent to an
 * OpenAI-compatible server by mistake, nor the reverse.
 */
export function switchBackendKind(
  values: SettingsFormValues,
  kind: BackendKind,
  stash: BackendStash,
  settings: Settings,
): { values: SettingsFormValues; stash: BackendStash } {
  if (kind === values.kind) {
    return { values, stash };
  }
  const left: BackendFields = { baseUrl: values.baseUrl, model: values.model, titleModel: values.titleModel };
  const stored: BackendFields =
    settings.backend.kind === kind
      ? { baseUrl: settings.backend.baseUrl, model: settings.backend.model, titleModel: settings.titleModel }
      : { baseUrl: "", model: "", titleModel: "" };
  const restored = stash[kind] ?? stored;
  return {
    values: { ...values, ...restored, kind },
    stash: { ...stash, [values.kind]: left },
  };
}

/**
 * Checks the values and returns the settings request body with the idle
 * lock, or the errors to show. Text inputs are trimmed, except the system
 * prompt and the template, which are sent as typed unless they are blank.
 * An empty temperature means the model's default, an empty context length
 * the model's own, and an empty last messages, messages to recall or
 * messages around each match Hearth's default. The idle lock has no
 * default here and must be filled in. For an OpenAI-compatible server the API
 * key is left out to keep the stored one, sent empty to remove it, and sent
 * for a new one. The server keeps a stored key only while the base URL
 * stays the same.
 */
export function settingsUpdateFrom(
  values: SettingsFormValues,
  settings: Settings,
): SettingsSave | { errors: SettingsFormErrors } {
  const errors: SettingsFormErrors = {};

  const baseUrl = values.baseUrl.trim();
  if (baseUrl === "") {
    errors.baseUrl = strings.settings.urlMissing;
  } else if (!isHttpUrl(baseUrl)) {
    errors.baseUrl = strings.settings.urlInvalid;
  }
  const model = values.model.trim();
  if (model === "") {
    errors.model = strings.settings.modelMissing;
  }

  // Ollama takes no API key, and the server drops a stored one when the
  // backend becomes Ollama, so none is sent for it.
  const apiKey = values.apiKey.trim();
  let apiKeyValue: string | undefined;
  if (values.kind === "ollama") {
    apiKeyValue = undefined;
  } else if (values.apiKeyAction === "remove") {
    apiKeyValue = "";
  } else if (values.apiKeyAction === "replace" && apiKey !== "") {
    apiKeyValue = apiKey;
  } else if (values.apiKeyAction === "replace" && settings.backend.apiKeySet) {
    errors.apiKey = strings.settings.apiKeyMissing;
  }

  const temperature = parseTemperature(values.temperature);
  if (temperature === undefined) {
    errors.temperature = strings.settings.temperatureInvalid;
  }
  const contextLength = parseContextLength(values.contextLength);
  if (contextLength === undefined) {
    errors.contextLength = strings.settings.contextLengthInvalid(
      settingsLimits.minContextLength,
      settingsLimits.maxContextLength,
    );
  }
  const lastMessages = parseLastMessages(values.lastMessages, settings.defaults.lastMessages);
  if (lastMessages === undefined) {
    errors.lastMessages = strings.settings.lastMessagesInvalid(settingsLimits.maxLastMessages);
  }

  const topK = parseBoundedCount(values.topK, settingsLimits.minTopK, settingsLimits.maxTopK, settings.defaults.recall.topK);
  if (topK === undefined) {
    errors.topK = strings.settings.topKInvalid(settingsLimits.minTopK, settingsLimits.maxTopK);
  }
  const messageRange = parseBoundedCount(
    values.messageRange,
    0,
    settingsLimits.maxMessageRange,
    settings.defaults.recall.messageRange,
  );
  if (messageRange === undefined) {
    errors.messageRange = strings.settings.messageRangeInvalid(settingsLimits.maxMessageRange);
  }
  const idleLockMinutes = parseBoundedCount(values.idleLock, 0, settingsLimits.maxIdleLockMinutes, undefined);
  if (idleLockMinutes === undefined) {
    errors.idleLock = strings.settings.idleLockInvalid(settingsLimits.maxIdleLockMinutes);
  }

  if (
    Object.keys(errors).length > 0 ||
    temperature === undefined ||
    contextLength === undefined ||
    lastMessages === undefined ||
    topK === undefined ||
    messageRange === undefined ||
    idleLockMinutes === undefined
  ) {
    return { errors };
  }

  const backend: SettingsUpdate["backend"] = { kind: values.kind, baseUrl, model };
  if (apiKeyValue !== undefined) {
    backend.apiKey = apiKeyValue;
  }
  return {
    update: {
      backend,
      titleModel: values.titleModel.trim(),
      temperature,
      contextLength,
      systemPrompt: blankToEmpty(values.systemPrompt),
      lastMessages,
      workingMemory: { template: blankToEmpty(values.template), scope: values.scope },
      recall: { topK, messageRange, scope: values.recallScope, enabled: values.recallEnabled },
      theme: values.theme,
    },
    idleLockMinutes,
  };
}

/**
 * Returns the input that a field named by the server belongs to, or "form"
 * for an error that names no input. The server names nested fields with
 * dots, such as "backend.baseUrl" and "workingMemory.template".
 */
export function settingsFieldFor(serverField: string | null): SettingsFormField | "form" {
  switch (serverField) {
    case "backend.kind":
    case "kind":
      return "kind";
    case "backend.baseUrl":
    case "baseUrl":
      return "baseUrl";
    case "backend.model":
    case "model":
      return "model";
    case "backend.apiKey":
    case "apiKey":
      return "apiKey";
    case "temperature":
      return "temperature";
    case "contextLength":
      return "contextLength";
    case "titleModel":
      return "titleModel";
    case "systemPrompt":
      return "systemPrompt";
    case "lastMessages":
      return "lastMessages";
    case "workingMemory.template":
    case "template":
      return "template";
    case "workingMemory.scope":
    case "scope":
      return "scope";
    case "recall.enabled":
      return "recallEnabled";
    case "recall.topK":
      return "topK";
    case "recall.messageRange":
      return "messageRange";
    case "recall.scope":
      return "recallScope";
    case "theme":
      return "theme";
    case "idleLockMinutes":
      return "idleLock";
    default:
      return "form";
  }
}

// parseTemperature returns null for an empty input, the number for one from
// 0 to 2, and undefined for anything else.
function parseTemperature(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return null;
  }
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(trimmed)) {
    return undefined;
  }
  const value = Number(trimmed);
  return value <= settingsLimits.maxTemperature ? value : undefined;
}

function parseContextLength(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return 0;
  }
  const value = parseWholeNumber(trimmed);
  if (value === undefined) {
    return undefined;
  }
  if (value === 0 || (value >= settingsLimits.minContextLength && value <= settingsLimits.maxContextLength)) {
    return value;
  }
  return undefined;
}

function parseLastMessages(text: string, defaultCount: number): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return defaultCount;
  }
  const value = parseWholeNumber(trimmed);
  return value !== undefined && value <= settingsLimits.maxLastMessages ? value : undefined;
}

// parseBoundedCount returns the whole number in text from min to max, the
// default for an empty text, and undefined for anything else, including an
// empty text without a default.
function parseBoundedCount(text: string, min: number, max: number, defaultCount: number | undefined): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return defaultCount;
  }
  const value = parseWholeNumber(trimmed);
  return value !== undefined && value >= min && value <= max ? value : undefined;
}

function parseWholeNumber(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

function blankToEmpty(text: string): string {
  return text.trim() === "" ? "" : text;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
