import { describe, expect, it } from "vitest";

import type { Settings, SettingsUpdate } from "./api.ts";
import {
  initialSettingsValues,
  type SettingsFormErrors,
  type SettingsSave,
  settingsFieldFor,
  settingsFormFields,
  settingsUpdateFrom,
  switchBackendKind,
  type SettingsFormValues,
} from "./settingsForm.ts";
import { strings } from "./strings.ts";

const stored: Settings = {
  backend: { kind: "ollama", baseUrl: "http://127.0.0.1:11434", model: "llama3.2", apiKeySet: false },
  titleModel: "",
  temperature: null,
  contextLength: 0,
  systemPrompt: "",
  lastMessages: 20,
  workingMemory: { template: "", scope: "resource" },
  recall: { topK: 4, messageRange: 1, scope: "resource", enabled: true },
  theme: "system",
  defaults: {
    systemPrompt: "You are Hearth.",
    workingMemoryTemplate: "# About the user",
    lastMessages: 20,
    recall: { topK: 4, messageRange: 1, scope: "resource", enabled: true },
    theme: "system",
  },
};

// The idle lock of the profile in these tests, Hearth's default.
const idleLockMinutes = 15;

const withKey: Settings = {
  ...stored,
  backend: { kind: "openai", baseUrl: "https://api.example.com/v1", model: "gpt-4o-mini", apiKeySet: true },
};

// updateOf returns the request body of a result, and fails the test when
// the values were rejected.
function updateOf(result: ReturnType<typeof settingsUpdateFrom>): SettingsUpdate {
  return saveOf(result).update;
}

// saveOf returns what a result saves, and fails the test when the values
// were rejected.
function saveOf(result: ReturnType<typeof settingsUpdateFrom>): SettingsSave {
  if (!("update" in result)) {
    throw new Error(`the values were rejected: ${JSON.stringify(result.errors)}`);
  }
  return result;
}

// errorsOf returns the errors of a result, and fails the test when the
// values were accepted.
function errorsOf(result: ReturnType<typeof settingsUpdateFrom>): SettingsFormErrors {
  if (!("errors" in result)) {
    throw new Error(`the values were accepted: ${JSON.stringify(result.update)}`);
  }
  return result.errors;
}

function valuesWith(change: Partial<SettingsFormValues>, settings: Settings = stored): SettingsFormValues {
  return { ...initialSettingsValues(settings, idleLockMinutes), ...change };
}

describe("initialSettingsValues", () => {
  it("copies the stored settings", () => {
    expect(initialSettingsValues({ ...stored, temperature: 0.7, contextLength: 8192 }, idleLockMinutes)).toEqual({
      kind: "ollama",
      baseUrl: "http://127.0.0.1:11434",
      model: "llama3.2",
      apiKeyAction: "replace",
      apiKey: "",
      temperature: "0.7",
      contextLength: "8192",
      titleModel: "",
      systemPrompt: "",
      lastMessages: "20",
      template: "",
      scope: "resource",
      recallEnabled: true,
      topK: "4",
      messageRange: "1",
      recallScope: "resource",
      theme: "system",
      idleLock: "15",
    });
  });

  it("copies the recall, the theme and the idle lock", () => {
    const values = initialSettingsValues(
      { ...stored, recall: { topK: 12, messageRange: 0, scope: "thread", enabled: false }, theme: "dark" },
      0,
    );
    expect(values.recallEnabled).toBe(false);
    expect(values.topK).toBe("12");
    expect(values.messageRange).toBe("0");
    expect(values.recallScope).toBe("thread");
    expect(values.theme).toBe("dark");
    expect(values.idleLock).toBe("0");
  });

  it("keeps a saved key without showing it", () => {
    const values = initialSettingsValues(withKey, idleLockMinutes);
    expect(values.apiKeyAction).toBe("keep");
    expect(values.apiKey).toBe("");
  });
});

describe("settingsUpdateFrom", () => {
  it("sends the unchanged settings without a key", () => {
    expect(settingsUpdateFrom(initialSettingsValues(stored, idleLockMinutes), stored)).toEqual({
      update: {
        backend: { kind: "ollama", baseUrl: "http://127.0.0.1:11434", model: "llama3.2" },
        titleModel: "",
        temperature: null,
        contextLength: 0,
        systemPrompt: "",
        lastMessages: 20,
        workingMemory: { template: "", scope: "resource" },
        recall: { topK: 4, messageRange: 1, scope: "resource", enabled: true },
        theme: "system",
      },
      idleLockMinutes: 15,
    });
  });

  it("leaves out a kept key", () => {
    const update = updateOf(settingsUpdateFrom(initialSettingsValues(withKey, idleLockMinutes), withKey));
    expect("apiKey" in update.backend).toBe(false);
  });

  it("sends an empty key to remove it", () => {
    const update = updateOf(settingsUpdateFrom(valuesWith({ apiKeyAction: "remove" }, withKey), withKey));
    expect(update.backend.apiKey).toBe("");
  });

  it("sends a new key trimmed", () => {
    const update = updateOf(
      settingsUpdateFrom(valuesWith({ apiKeyAction: "replace", apiKey: "  sk-new  " }, withKey), withKey),
    );
    expect(update.backend.apiKey).toBe("sk-new");
  });

  it("asks for the key that replaces a saved one", () => {
    expect(settingsUpdateFrom(valuesWith({ apiKeyAction: "replace" }, withKey), withKey)).toEqual({
      errors: { apiKey: strings.settings.apiKeyMissing },
    });
  });

  it("sends no key for Ollama", () => {
    const update = updateOf(
      settingsUpdateFrom(
        valuesWith({ kind: "ollama", baseUrl: "http://127.0.0.1:11434", apiKeyAction: "replace", apiKey: "sk-typed" }, withKey),
        withKey,
      ),
    );
    expect("apiKey" in update.backend).toBe(false);
  });

  it("needs no key for a server without one", () => {
    const update = updateOf(settingsUpdateFrom(valuesWith({ kind: "openai", baseUrl: "http://127.0.0.1:8080/v1" }), stored));
    expect("apiKey" in update.backend).toBe(false);
  });

  it("reads numbers and keeps the prompts as typed", () => {
    const result = settingsUpdateFrom(
      valuesWith({
        temperature: " 0.25 ",
        contextLength: "32768",
        lastMessages: "0",
        titleModel: " qwen2.5:0.5b ",
        systemPrompt: "  Be brief.\n",
        template: "   ",
        scope: "thread",
      }),
      stored,
    );
    expect(result).toEqual({
      update: {
        backend: { kind: "ollama", baseUrl: "http://127.0.0.1:11434", model: "llama3.2" },
        titleModel: "qwen2.5:0.5b",
        temperature: 0.25,
        contextLength: 32768,
        systemPrompt: "  Be brief.\n",
        lastMessages: 0,
        workingMemory: { template: "", scope: "thread" },
        recall: { topK: 4, messageRange: 1, scope: "resource", enabled: true },
        theme: "system",
      },
      idleLockMinutes: 15,
    });
  });

  it("sends the recall, the theme and the idle lock", () => {
    const result = saveOf(
      settingsUpdateFrom(
        valuesWith({
          recallEnabled: false,
          topK: " 1 ",
          messageRange: "0",
          recallScope: "thread",
          theme: "dark",
          idleLock: "0",
        }),
        stored,
      ),
    );
    expect(result.update.recall).toEqual({ topK: 1, messageRange: 0, scope: "thread", enabled: false });
    expect(result.update.theme).toBe("dark");
    expect(result.idleLockMinutes).toBe(0);
  });

  it("uses the recall defaults for empty numbers", () => {
    const update = updateOf(
      settingsUpdateFrom(valuesWith({ topK: "", messageRange: " " }), {
        ...stored,
        defaults: { ...stored.defaults, recall: { topK: 6, messageRange: 2, scope: "resource", enabled: true } },
      }),
    );
    expect(update.recall.topK).toBe(6);
    expect(update.recall.messageRange).toBe(2);
  });

  it("needs an idle lock", () => {
    expect(settingsUpdateFrom(valuesWith({ idleLock: "" }), stored)).toEqual({
      errors: { idleLock: strings.settings.idleLockInvalid(10_080) },
    });
  });

  it("uses the defaults for empty numbers", () => {
    const update = updateOf(
      settingsUpdateFrom(valuesWith({ contextLength: "", lastMessages: "" }), {
        ...stored,
        defaults: { ...stored.defaults, lastMessages: 30 },
      }),
    );
    expect(update.contextLength).toBe(0);
    expect(update.lastMessages).toBe(30);
  });

  it.each([
    { field: "temperature", value: "2.5" },
    { field: "temperature", value: "-1" },
    { field: "temperature", value: "warm" },
    { field: "temperature", value: "1e0" },
    { field: "contextLength", value: "511" },
    { field: "contextLength", value: "1048577" },
    { field: "contextLength", value: "4096.5" },
    { field: "lastMessages", value: "201" },
    { field: "lastMessages", value: "-3" },
    { field: "topK", value: "0" },
    { field: "topK", value: "51" },
    { field: "topK", value: "2.5" },
    { field: "topK", value: "-1" },
    { field: "messageRange", value: "11" },
    { field: "messageRange", value: "-1" },
    { field: "messageRange", value: "one" },
    { field: "idleLock", value: "10081" },
    { field: "idleLock", value: "-5" },
    { field: "idleLock", value: "1e3" },
    { field: "baseUrl", value: "" },
    { field: "baseUrl", value: "ftp://example.com" },
    { field: "baseUrl", value: "localhost:11434" },
    { field: "model", value: "  " },
  ] as const)("rejects $field $value", ({ field, value }) => {
    const errors = errorsOf(settingsUpdateFrom(valuesWith({ [field]: value }), stored));
    expect(Object.keys(errors)).toEqual([field]);
  });

  it.each([
    { field: "temperature", value: "0" },
    { field: "temperature", value: "2" },
    { field: "temperature", value: ".5" },
    { field: "contextLength", value: "512" },
    { field: "contextLength", value: "1048576" },
    { field: "lastMessages", value: "200" },
    { field: "topK", value: "1" },
    { field: "topK", value: "50" },
    { field: "messageRange", value: "0" },
    { field: "messageRange", value: "10" },
    { field: "idleLock", value: "0" },
    { field: "idleLock", value: "10080" },
  ] as const)("accepts $field $value", ({ field, value }) => {
    expect(() => updateOf(settingsUpdateFrom(valuesWith({ [field]: value }), stored))).not.toThrow();
  });

  it("reports every invalid input at once", () => {
    const errors = errorsOf(
      settingsUpdateFrom(valuesWith({ baseUrl: "", model: "", temperature: "9", topK: "99", idleLock: "x" }), stored),
    );
    expect(Object.keys(errors).sort()).toEqual(["baseUrl", "idleLock", "model", "temperature", "topK"]);
  });
});

describe("settingsFieldFor", () => {
  it.each([
    { server: "backend.kind", want: "kind" },
    { server: "backend.baseUrl", want: "baseUrl" },
    { server: "backend.model", want: "model" },
    { server: "backend.apiKey", want: "apiKey" },
    { server: "temperature", want: "temperature" },
    { server: "contextLength", want: "contextLength" },
    { server: "titleModel", want: "titleModel" },
    { server: "systemPrompt", want: "systemPrompt" },
    { server: "lastMessages", want: "lastMessages" },
    { server: "workingMemory.template", want: "template" },
    { server: "workingMemory.scope", want: "scope" },
    { server: "recall.topK", want: "topK" },
    { server: "recall.messageRange", want: "messageRange" },
    { server: "recall.scope", want: "recallScope" },
    { server: "recall.enabled", want: "recallEnabled" },
    { server: "theme", want: "theme" },
    { server: "idleLockMinutes", want: "idleLock" },
    { server: "baseUrl", want: "baseUrl" },
    { server: "somethingNew", want: "form" },
    { server: null, want: "form" },
  ])("maps $server to $want", ({ server, want }) => {
    expect(settingsFieldFor(server)).toBe(want);
  });

  it("maps only to inputs of the form", () => {
    for (const server of ["backend.kind", "backend.apiKey", "workingMemory.scope", "titleModel", "recall.scope", "theme", "idleLockMinutes"]) {
      const field = settingsFieldFor(server);
      expect(field === "form" || settingsFormFields.includes(field)).toBe(true);
    }
  });
});

describe("switchBackendKind", () => {
  it("empties the inputs for another kind", () => {
    const { values } = switchBackendKind(valuesWith({ titleModel: "llama3.2:1b" }), "openai", {}, stored);
    expect(values.kind).toBe("openai");
    expect(values.baseUrl).toBe("");
    expect(values.model).toBe("");
    expect(values.titleModel).toBe("");
  });

  it("keeps the other inputs", () => {
    const { values } = switchBackendKind(valuesWith({ temperature: "0.7", systemPrompt: "Be brief." }), "openai", {}, stored);
    expect(values.temperature).toBe("0.7");
    expect(values.systemPrompt).toBe("Be brief.");
  });

  it("brings the typed inputs back", () => {
    const typed = valuesWith({ baseUrl: "http://192.168.1.5:11434", model: "qwen2.5:7b" });
    const toOpenAI = switchBackendKind(typed, "openai", {}, stored);
    const openAIValues = { ...toOpenAI.values, baseUrl: "https://api.example.com/v1", model: "gpt-4o" };
    const back = switchBackendKind(openAIValues, "ollama", toOpenAI.stash, stored);
    expect(back.values.kind).toBe("ollama");
    expect(back.values.baseUrl).toBe("http://192.168.1.5:11434");
    expect(back.values.model).toBe("qwen2.5:7b");

    const again = switchBackendKind(back.values, "openai", back.stash, stored);
    expect(again.values.baseUrl).toBe("https://api.example.com/v1");
    expect(again.values.model).toBe("gpt-4o");
  });

  it("restores the stored kind's settings", () => {
    const openAIStored = { ...withKey, titleModel: "gpt-4o-mini" };
    const toOllama = switchBackendKind(valuesWith({}, openAIStored), "ollama", {}, openAIStored);
    expect(toOllama.values.baseUrl).toBe("");
    // With an empty stash, the stored kind comes back as stored.
    const back = switchBackendKind(toOllama.values, "openai", {}, openAIStored);
    expect(back.values.baseUrl).toBe("https://api.example.com/v1");
    expect(back.values.model).toBe("gpt-4o-mini");
    expect(back.values.titleModel).toBe("gpt-4o-mini");
  });

  it("same kind changes nothing", () => {
    const values = valuesWith({ baseUrl: "http://127.0.0.1:1" });
    const stash = {};
    const result = switchBackendKind(values, "ollama", stash, stored);
    expect(result.values).toBe(values);
    expect(result.stash).toBe(stash);
  });
});
