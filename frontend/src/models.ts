// The filter that keeps the backend's chat models and drops its embedding-only ones.

import type { ModelInfo } from "./api.ts";

/**
 * Reports whether model can chat. Ollama lists embedding models such as
 * nomic-embed-text next to chat models, and a chat request to one fails, so
 * a model whose capabilities include "embedding" but not "completion" is
 * left out. A model without capabilities, as from an OpenAI-compatible
 * server, counts as a chat model.
 */
export function isChatModel(model: ModelInfo): boolean {
  const capabilities = model.capabilities ?? [];
  return capabilities.includes("completion") || !capabilities.includes("embedding");
}

/** Returns the names of the models that can chat, in the backend's order. */
export function chatModelNames(models: readonly ModelInfo[]): string[] {
  return models.filter(isChatModel).map((model) => model.name);
}
