"""Render readiness into documents in three steps: view model (dict) → HTML (Jinja2) → PDF (WeasyPrint)."""
