import { describe, expect, it } from "vitest";

import type { RecallSettings } from "./api.ts";
import {
  apiKeyHint,
  embedderChoiceFrom,
  formFieldFor,
  initialFormValues,
  type EmbedderFormValues,
} from "./embedderForm.ts";
import { strings } from "./strings.ts";

const status = { state: "ready", embedder: "lexical-v1-1024", dimension: 1024, vectors: 3, pending: 0 } as const;

const builtin: RecallSettings = {
  status,
  embedder: { kind: "builtin", hasApiKey: false },
  lexical: true,
  suggestion: "nomic-embed-text",
};

const openai: RecallSettings = {
  status,
  embedder: {
    kind: "openai",
    model: "text-embedding-3-small",
    baseUrl: "https://api.openai.com/v1",
    dimensions: 512,
    hasApiKey: true,
  },
  lexical: false,
  suggestion: "nomic-embed-text",
};

const empty: EmbedderFormValues = {
  kind: "builtin",
  ollamaModel: "",
  ollamaUrl: "",
  openaiUrl: "",
  openaiModel: "",
  apiKey: "",
  dimensions: "",
};

describe("initialFormValues", () => {
  it("suggests the Ollama model for builtin", () => {
    expect(initialFormValues(builtin)).toEqual({ ...empty, kind: "builtin", ollamaModel: "nomic-embed-text" });
  });

  it("keeps the chosen Ollama model and server", () => {
    const settings: RecallSettings = {
      ...builtin,
      embedder: { kind: "ollama", model: "mxbai-embed-large", baseUrl: "http://127.0.0.1:11500", hasApiKey: false },
      lexical: false,
    };
    expect(initialFormValues(settings)).toEqual({
      ...empty,
      kind: "ollama",
      ollamaModel: "mxbai-embed-large",
      ollamaUrl: "http://127.0.0.1:11500",
    });
  });

  it("fills OpenAI fields but never the key", () => {
    expect(initialFormValues(openai)).toEqual({
      ...empty,
      kind: "openai",
      ollamaModel: "nomic-embed-text",
      openaiUrl: "https://api.openai.com/v1",
      openaiModel: "text-embedding-3-small",
      apiKey: "",
      dimensions: "512",
    });
  });
});

describe("embedderChoiceFrom", () => {
  it("sends only the kind for builtin", () => {
    const values = { ...empty, kind: "builtin", ollamaModel: "x", openaiUrl: "y", apiKey: "z" } as const;
    expect(embedderChoiceFrom(values)).toEqual({ choice: { kind: "builtin" } });
  });

  it("sends the trimmed Ollama model", () => {
    const values = { ...empty, kind: "ollama", ollamaModel: "  nomic-embed-text " } as const;
    expect(embedderChoiceFrom(values)).toEqual({ choice: { kind: "ollama", model: "nomic-embed-text" } });
  });

  it("leaves out an empty Ollama model", () => {
    expect(embedderChoiceFrom({ ...empty, kind: "ollama" })).toEqual({ choice: { kind: "ollama" } });
  });

  it("sends an Ollama server URL", () => {
    const values = { ...empty, kind: "ollama", ollamaModel: "m", ollamaUrl: "http://127.0.0.1:11500" } as const;
    expect(embedderChoiceFrom(values)).toEqual({
      choice: { kind: "ollama", model: "m", baseUrl: "http://127.0.0.1:11500" },
    });
  });

  it("rejects an Ollama URL without http", () => {
    const values = { ...empty, kind: "ollama", ollamaUrl: "127.0.0.1:11434" } as const;
    expect(embedderChoiceFrom(values)).toEqual({ errors: { ollamaUrl: strings.embedder.urlInvalid } });
  });

  it("sends every OpenAI field", () => {
    const values = {
      ...empty,
      kind: "openai",
      openaiUrl: " https://api.openai.com/v1 ",
      openaiModel: "text-embedding-3-small",
      apiKey: " sk-test ",
      dimensions: "256",
    } as const;
    expect(embedderChoiceFrom(values)).toEqual({
      choice: {
        kind: "openai",
        baseUrl: "https://api.openai.com/v1",
        model: "text-embedding-3-small",
        apiKey: "sk-test",
        dimensions: 256,
      },
    });
  });

  it("leaves out an empty key and dimensions", () => {
    const values = { ...empty, kind: "openai", openaiUrl: "http://127.0.0.1:8080/v1", openaiModel: "m" } as const;
    expect(embedderChoiceFrom(values)).toEqual({
      choice: { kind: "openai", baseUrl: "http://127.0.0.1:8080/v1", model: "m" },
    });
  });

  it("names each missing OpenAI field", () => {
    expect(embedderChoiceFrom({ ...empty, kind: "openai" })).toEqual({
      errors: { openaiUrl: strings.embedder.urlMissing, openaiModel: strings.embedder.modelMissing },
    });
  });

  it.each(["ftp://example.com", "api.openai.com/v1", "https//api"])("rejects the URL %s", (url) => {
    const values = { ...empty, kind: "openai", openaiUrl: url, openaiModel: "m" } as const;
    expect(embedderChoiceFrom(values)).toEqual({ errors: { openaiUrl: strings.embedder.urlInvalid } });
  });

  it.each(["0", "-5", "1.5", "12a", "1e3"])("rejects dimensions %s", (dimensions) => {
    const values = { ...empty, kind: "openai", openaiUrl: "https://h/v1", openaiModel: "m", dimensions } as const;
    expect(embedderChoiceFrom(values)).toEqual({ errors: { dimensions: strings.embedder.dimensionsInvalid } });
  });
});

describe("formFieldFor", () => {
  it.each([
    { field: "kind", kind: "ollama", want: "kind" },
    { field: "baseUrl", kind: "openai", want: "openaiUrl" },
    { field: "baseUrl", kind: "ollama", want: "ollamaUrl" },
    { field: "model", kind: "openai", want: "openaiModel" },
    { field: "model", kind: "ollama", want: "ollamaModel" },
    { field: "apiKey", kind: "openai", want: "apiKey" },
    { field: "dimensions", kind: "openai", want: "dimensions" },
    { field: "dimensions", kind: "ollama", want: "form" },
    { field: "embedder", kind: "ollama", want: "form" },
    { field: null, kind: "openai", want: "form" },
    { field: "somethingNew", kind: "openai", want: "form" },
  ] as const)("puts $field for $kind on $want", ({ field, kind, want }) => {
    expect(formFieldFor(field, kind)).toBe(want);
  });
});

describe("apiKeyHint", () => {
  it("says no key is needed without a stored key", () => {
    expect(apiKeyHint(builtin, "https://api.openai.com/v1")).toBe(strings.embedder.apiKeyNone);
  });

  it("says a key is stored for the same URL", () => {
    expect(apiKeyHint(openai, " https://api.openai.com/v1 ")).toBe(strings.embedder.apiKeyStored);
  });

  it("names the stored key's URL for another", () => {
    expect(apiKeyHint(openai, "http://127.0.0.1:8080/v1")).toBe(
      strings.embedder.apiKeyStoredElsewhere("https://api.openai.com/v1"),
    );
  });
});
