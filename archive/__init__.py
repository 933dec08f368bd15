"""Writing, reading, indexing and replaying WARC files: the archive is the source of truth."""
