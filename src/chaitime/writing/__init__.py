"""From transcript to words on a page: chapters, the blog-post draft, show notes, links.

Everything here works offline from transcript.json and episode.toml; the optional LLM polish
(``llm.py``) only rewrites the summary and chapter titles, and its quotes are checked verbatim.
"""
