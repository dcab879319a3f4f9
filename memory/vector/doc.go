// Package vector keeps message embeddings in memory and finds the ones most
// similar to a query, for semantic recall. Each profile has its own index.
//
// Three index types share the methods of Interface:
//
//   - Exact compares the query with every stored vector. Its results are
//     the true nearest neighbours, and its cost grows with the number of
//     vectors times their dimension.
//   - HNSW is a Hierarchical Navigable Small World graph (Malkov and
//     Yashunin), whose search cost grows with the logarithm of the number
//     of vectors and whose results are approximate.
//   - Index is the one to use: an HNSW that searches exactly while it holds
//     fewer vectors than Options.ExactThreshold, by default about as many
//     as the graph needs to become faster than the scan (2,006 vectors of
//     768 elements).
//
// Keys are strings, such as message ids. Vectors are float32, all of the
// index's dimension, and are stored at unit length, so that their dot
// product is their cosine similarity, which is the score Search returns.
// Vectors of the wrong dimension, all zeros, or containing NaN or ±Inf are
// rejected with an error. Adding an existing key replaces its vector.
//
// Search takes an optional filter on keys, such as membership of one thread.
// A filtered search looks for the best k keys that pass the filter, not for
// the best k overall followed by filtering, so it returns k results whenever
// k keys pass.
//
// All three types are safe for concurrent use: searches run in parallel
// under a read lock, and Add, Delete and UnmarshalBinary take the write
// lock.
//
// MarshalBinary writes a whole index, graph included, in a versioned format
// with a CRC-32C checksum (described in snapshot.go), so that an index can
// be saved and loaded without rebuilding it. UnmarshalBinary checks every
// length, reference and vector and returns an error for damaged data. The
// snapshot is not encrypted: the caller seals it.
//
// The package does not log.
package vector
