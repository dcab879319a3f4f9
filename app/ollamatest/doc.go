// Package ollamatest provides a fake Ollama server for tests.
//
// The fake speaks the HTTP API of Ollama 0.17.4 with the request and response
// types of github.com/ollama/ollama/api, so the real api.Client and any code
// built on it accept every response. It serves these routes:
//
//	POST /api/chat     scripted or echoed replies, streamed as NDJSON unless "stream" is false;
//	                   400 when tools are sent to a model named like "gemma", which cannot call them
//	POST /api/embed    deterministic unit vectors derived from hashes of the input text
//	POST /api/show     model details, with the context length in model_info
//	POST /api/pull     a progress stream, after which the model counts as installed
//	GET  /api/tags     the installed models
//	GET  /api/version  the Ollama version the fake follows
//	GET  /             "Ollama is running", also for HEAD
//
// Tests script chat replies with [Server.Enqueue]. A [Reply] can split the
// content into chunks, attach tool calls, add delays, hold the stream until
// [Server.Release], abort the connection or respond with an HTTP error. When no
// reply is queued, the chat responds "You said: " followed by the last user
// message, so the fake is usable by hand.
//
// Every request is recorded, and [Server.ChatRequests], [Server.EmbedRequests],
// [Server.PullRequests] and [Server.Requests] return copies in arrival order.
//
// [Server.ControlHandler] serves routes under /_fake/ that do the same over
// HTTP, for tests in other languages. The command in cmd/fake-ollama runs the
// fake as a separate process with those routes. Go tests use the methods
// instead.
package ollamatest
