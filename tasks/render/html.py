"""Step 2: a view-model dict rendered to an HTML string with the Jinja2 templates in report_templates/."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from evalprep.redaction import redact_value
from evalprep.settings import TEMPLATES_DIR


@cache
def environment() -> Environment:
    """The template environment: everything escaped (select_autoescape() skips *.html.j2), no silent gaps, and
    every printed value through the redaction gate (`finalize`): an ID or phone number typed into any field
    never reaches a PDF or index.html whole, whichever template prints it."""
    return Environment(
        finalize=redact_value,
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template_name: str, context: Mapping[str, Any]) -> str:
    """Render one template of report_templates/ with a view-model dict."""
    return environment().get_template(template_name).render(context)
