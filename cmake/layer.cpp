// Gives every layer library at least one translation unit, so that a layer
// whose directory is still empty links as an empty archive.
