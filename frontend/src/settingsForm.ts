// The values of the Settings dialog's form, their checks, the request they
// make, and which input an error of the server belongs to.

import type { BackendKind, Settings, SettingsUpdate, WorkingMemoryScope } from "./api.ts";
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
  | "scope";

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
];

/** Limits of the numeric settings, as the server checks them. */
export const settingsLimits = {
  maxTemperature: 2,
  minContextLength: 512,
  maxContextLength: 1_048_576,
  maxLastMessages: 200,
} as const;

/**
 * Returns the form's first values: those of the stored settings, with an
 * empty API key input that keeps the stored key, if any.
 */
export function initialSettingsValues(settings: Settings): SettingsFormValues {
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
  };
}

/**
 * Checks the values and returns the request body, or the errors to show.
 * Text inputs are trimmed, except the system prompt and the template, which
 * are sent as typed unless they are blank. An empty temperature means the
 * model's default, an empty context length the model's own and an empty
 * last messages Hearth's default. For an OpenAI-compatible server the API
 * key is left out to keep the stored one, sent empty to remove it, and sent
 * for a new one. The server keeps a stored key only while the base URL
 * stays the same.
 */
export function settingsUpdateFrom(
  values: SettingsFormValues,
  settings: Settings,
): { update: SettingsUpdate } | { errors: SettingsFormErrors } {
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

  if (Object.keys(errors).length > 0 || temperature === undefined || contextLength === undefined || lastMessages === undefined) {
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
    },
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
