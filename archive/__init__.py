"""Writing, reading, indexing and replaying WARC files: the archive is the source of truth."""

WARC_DIR = "warc"  # the archive directory's WARC files, named here so that every stage can import it cheaply
