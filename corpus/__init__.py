"""The corpus: derived from the WARCs into a store (documents, versions, site templates,
near-duplicates), with text files, corpus.jsonl and exports for readers."""
