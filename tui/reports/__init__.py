"""Renderers of a session analysis: JSON, text (and, from other modules, HTML and CSV)."""
