"""``newsarchive browse``: the corpus, its runs and their plots as web pages on 127.0.0.1; HTML run reports."""
