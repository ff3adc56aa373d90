"""Edit by editing the transcript: edit.md (write, parse), suggested cuts, cut lists, re-timing."""
