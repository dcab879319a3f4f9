// The values of the Memory dialog's embedder form, their checks, and the
// request they make.

import type { EmbedderChoice, EmbedderKind, RecallSettings } from "./api.ts";
import { strings } from "./strings.ts";

/** The text of the embedder form's inputs, as typed, and the chosen kind. */
export interface EmbedderFormValues {
  kind: EmbedderKind;
  ollamaModel: string;
  /** Ollama server for embedding; empty for the one Hearth chats with. */
  ollamaUrl: string;
  openaiUrl: string;
  openaiModel: string;
  /** Never filled from the server, which does not return stored keys. */
  apiKey: string;
  dimensions: string;
}

/** An input of the embedder form. */
export type EmbedderFormField = "kind" | "ollamaModel" | "ollamaUrl" | "openaiUrl" | "openaiModel" | "apiKey" | "dimensions";

/**
 * One sentence per input in error, shown next to that input, and one under
 * "form" for an error that names no input, such as an embedder that failed
 * the server's test.
 */
export type EmbedderFormErrors = Partial<Record<EmbedderFormField | "form", string>>;

/** The inputs in the order the form shows them, which is the order the focus visits errors. */
export const embedderFormFields: readonly EmbedderFormField[] = [
  "kind",
  "ollamaModel",
  "ollamaUrl",
  "openaiUrl",
  "openaiModel",
  "apiKey",
  "dimensions",
];

/**
 * Returns the form's first values: those of the profile's embedder, with the
 * suggested Ollama model in the Ollama model input unless Ollama is already
 * chosen with another, and an empty API key.
 */
export function initialFormValues(settings: RecallSettings): EmbedderFormValues {
  const { embedder } = settings;
  const values: EmbedderFormValues = {
    kind: embedder.kind,
    ollamaModel: settings.suggestion,
    ollamaUrl: "",
    openaiUrl: "",
    openaiModel: "",
    apiKey: "",
    dimensions: "",
  };
  if (embedder.kind === "ollama") {
    values.ollamaModel = embedder.model ?? settings.suggestion;
    values.ollamaUrl = embedder.baseUrl ?? "";
  }
  if (embedder.kind === "openai") {
    values.openaiUrl = embedder.baseUrl ?? "";
    values.openaiModel = embedder.model ?? "";
    values.dimensions = embedder.dimensions === undefined ? "" : String(embedder.dimensions);
  }
  return values;
}

/**
 * Checks the values and returns the request body for the chosen kind, or the
 * errors to show. Only the inputs of the chosen kind are read, and text is
 * trimmed. An empty API key is left out, so that the server keeps the key it
 * stored for the same base URL.
 */
export function embedderChoiceFrom(values: EmbedderFormValues): { choice: EmbedderChoice } | { errors: EmbedderFormErrors } {
  const errors: EmbedderFormErrors = {};

  switch (values.kind) {
    case "builtin":
      return { choice: { kind: "builtin" } };

    case "ollama": {
      const choice: EmbedderChoice = { kind: "ollama" };
      const model = values.ollamaModel.trim();
      if (model !== "") {
        choice.model = model;
      }
      const url = values.ollamaUrl.trim();
      if (url !== "") {
        if (!isHttpUrl(url)) {
          errors.ollamaUrl = strings.embedder.urlInvalid;
        }
        choice.baseUrl = url;
      }
      return Object.keys(errors).length === 0 ? { choice } : { errors };
    }

    case "openai": {
      const url = values.openaiUrl.trim();
      const model = values.openaiModel.trim();
      const apiKey = values.apiKey.trim();
      const dimensions = values.dimensions.trim();
      if (url === "") {
        errors.openaiUrl = strings.embedder.urlMissing;
      } else if (!isHttpUrl(url)) {
        errors.openaiUrl = strings.embedder.urlInvalid;
      }
      if (model === "") {
        errors.openaiModel = strings.embedder.modelMissing;
      }
      if (dimensions !== "" && !/^[1-9]\d*$/.test(dimensions)) {
        errors.dimensions = strings.embedder.dimensionsInvalid;
      }
      if (Object.keys(errors).length > 0) {
        return { errors };
      }

      const choice: EmbedderChoice = { kind: "openai", baseUrl: url, model };
      if (apiKey !== "") {
        choice.apiKey = apiKey;
      }
      if (dimensions !== "") {
        choice.dimensions = Number(dimensions);
      }
      return { choice };
    }
  }
}

/**
 * Returns the input that a field named by the server belongs to, for the
 * chosen kind, or "form" for an error that names no input of the form. The
 * server names the whole choice "embedder", for example when a test
 * embedding failed.
 */
export function formFieldFor(serverField: string | null, kind: EmbedderKind): EmbedderFormField | "form" {
  switch (serverField) {
    case "kind":
      return "kind";
    case "baseUrl":
      if (kind === "openai") {
        return "openaiUrl";
      }
      return kind === "ollama" ? "ollamaUrl" : "form";
    case "model":
      if (kind === "openai") {
        return "openaiModel";
      }
      return kind === "ollama" ? "ollamaModel" : "form";
    case "apiKey":
      return kind === "openai" ? "apiKey" : "form";
    case "dimensions":
      return kind === "openai" ? "dimensions" : "form";
    default:
      return "form";
  }
}

/**
 * Returns the hint under the API key input for the base URL typed so far.
 * The server keeps a stored key only when the base URL stays the same.
 */
export function apiKeyHint(settings: RecallSettings, baseUrl: string): string {
  const { embedder } = settings;
  if (embedder.kind !== "openai" || !embedder.hasApiKey) {
    return strings.embedder.apiKeyNone;
  }
  const storedUrl = embedder.baseUrl ?? "";
  if (baseUrl.trim() === storedUrl) {
    return strings.embedder.apiKeyStored;
  }
  return strings.embedder.apiKeyStoredElsewhere(storedUrl);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
