package vector

import "errors"

var (
	// ErrDimension is returned by Add and Search when a vector's length is
	// not the index's dimension, and by the constructors when the dimension
	// is out of range.
	ErrDimension = errors.New("wrong vector dimension")

	// ErrInvalidVector is returned by Add and Search for a vector that
	// cannot be normalised: all zeros, or containing NaN or ±Inf.
	ErrInvalidVector = errors.New("invalid vector")

	// ErrEmptyKey is returned by Add when the key is the empty string.
	ErrEmptyKey = errors.New("empty key")

	// ErrInvalidOptions is returned by NewHNSW and NewIndex when an option
	// is out of range.
	ErrInvalidOptions = errors.New("invalid options")

	// ErrCorruptSnapshot is returned by UnmarshalBinary when the data is
	// truncated, fails its checksum, or describes an inconsistent index.
	ErrCorruptSnapshot = errors.New("corrupt vector index snapshot")

	// ErrSnapshotVersion is returned by UnmarshalBinary when the data was
	// written in a format version that this code does not read.
	ErrSnapshotVersion = errors.New("unsupported vector index snapshot version")

	// ErrSnapshotKind is returned by UnmarshalBinary when the data contains
	// a different kind of index, such as an Exact snapshot loaded into an
	// HNSW.
	ErrSnapshotKind = errors.New("snapshot contains a different kind of index")
)
