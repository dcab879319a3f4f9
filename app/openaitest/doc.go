// Package openaitest provides a fake OpenAI-compatible server for tests.
//
// The fake speaks the chat completions and model list routes of the OpenAI
// API, in the wire format that github.com/openai/openai-go/v3 reads, so the
// real library and any code built on it accept every response. It serves
// these routes under the base URL that [Server.URL] returns:
//
//	POST /v1/chat/completions  scripted or echoed replies, streamed as server-sent events when "stream" is true
//	GET  /v1/models            the listed models, with any extra fields a test adds
//
// Tests script chat replies with [Server.Enqueue]. A [Reply] lists the chunks
// of the stream, each with content, tool-call deltas or both. It can also
// add delays, hold the stream until [Server.Release], abort the connection,
// split events across writes, send an error event in the middle of the
// stream, or respond with an HTTP error and a Retry-After header. When no
// reply is queued, the chat responds "You said: " followed by the last user
// message, so the fake is usable by hand.
//
// [Server.SetAPIKey] makes every route require "Authorization: Bearer KEY",
// as OpenAI does, and [Server.SetModels] replaces the model list.
//
// Every request is recorded with its headers, and [Server.Requests] and
// [Server.ChatRequests] return copies in arrival order. ChatRequests decodes
// the bodies into the library's own openai.ChatCompletionNewParams.
package openaitest
