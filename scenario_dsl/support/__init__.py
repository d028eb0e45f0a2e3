"""Helpers every stage may use, importing nothing of scn's own: the version (`version`), atomic
file writes (`files`), "did you mean" suggestions (`suggest`), matplotlib without a display
(`plots`)."""
