"""Returns policy as code: versioned per-merchant rules, their file format and the engine."""
