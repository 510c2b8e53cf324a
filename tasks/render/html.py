"""Step 2: a view-model dict rendered to an HTML string with the Jinja2 templates in report_templates/."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from evalprep.settings import TEMPLATES_DIR


@cache
def environment() -> Environment:
    """The template environment: everything escaped (select_autoescape() skips *.html.j2), no silent gaps."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template_name: str, context: Mapping[str, Any]) -> str:
    """Render one template of report_templates/ with a view-model dict."""
    return environment().get_template(template_name).render(context)
