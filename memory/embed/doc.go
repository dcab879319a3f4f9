// Package embed turns message texts into vectors for semantic recall.
//
// It has three embedders with the same methods:
//
//   - [Lexical] is built in and works offline. It matches shared words,
//     word pairs and character trigrams, in any language.
//   - [Ollama] sends texts to an embedding model on an Ollama server,
//     by default nomic-embed-text on the local machine.
//   - [OpenAI] sends texts to any OpenAI-compatible /embeddings endpoint.
//
// The package declares no interface for them. A consumer declares the one
// it needs, usually
//
//	type Embedder interface {
//		Embed(ctx context.Context, texts []string) ([]embed.Vector, error)
//		ID() string
//		Dim() int
//	}
//
// Embed takes a batch of texts and returns one [Vector] per text in the same
// order. Every vector has length 1 (L2-normalised), so the dot product of
// two vectors is their cosine similarity. A text that is empty or only white
// space is an error, never skipped, so that results always line up with
// texts: Embed returns an error wrapping [ErrEmptyText] that names the
// text's index, and embeds nothing. Remote embedders split large batches
// into several requests, one after another.
//
// ID identifies the vector space. Two vectors are comparable only when they
// come from embedders with the same ID, and the ID changes with the model,
// the server's host for OpenAI, the requested dimensions and the Lexical
// version and dimension. Store it next to the vectors and rebuild them when
// it changes.
//
// Dim returns the vector length. Lexical knows it up front. A remote
// embedder knows it up front only when its config sets it, and otherwise
// learns it from its first response and returns 0 until then. After that,
// a response with another length is an error wrapping
// [ErrDimensionMismatch] that names both lengths.
//
// Remote embedders give each request a timeout and retry transient failures
// (a refused or dropped connection, a timeout, 408, 429 or a 5xx status) with
// exponential backoff, as [RetryPolicy] sets. Other failures end the call at
// once. Their errors say what failed and what to do, and wrap one of the
// sentinel errors of this package. They never contain the texts or an API
// key.
//
// The package logs nothing unless a remote embedder's config sets a Logger,
// which then receives one warning per retried attempt.
package embed
