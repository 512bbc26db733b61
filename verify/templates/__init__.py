"""Jinja2 templates and the stylesheet of the auditor's report (package data only)."""
