"""Step 3: HTML to PDF bytes with WeasyPrint, fetching nothing but the files of report_templates/."""
from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.urls import URLFetcher, URLFetcherResponse

from evalprep.settings import TEMPLATES_DIR
from tasks.render.html import render_html
from tasks.render.view_models import county_summary_context, village_dossier_context

GENERATOR = "evalprep"
VILLAGE_DOSSIER = "village_dossier.html.j2"
COUNTY_SUMMARY = "county_summary.html.j2"
TOWNSHIP_SUMMARY = "township_summary.html.j2"
DEPARTMENT_LIST = "department_list.html.j2"
REHEARSAL = "rehearsal.html.j2"
PRINT_CSS = "print.css"
STYLESHEETS = {REHEARSAL: "rehearsal.css"}  # every other template prints with print.css


class HarfBuzzSubsetMissing(RuntimeError):
    """WeasyPrint cannot subset fonts with HarfBuzz and would take ~10× longer per document."""


def check_harfbuzz_subset() -> None:
    """Fail at start-up when HarfBuzz subsetting (Debian libharfbuzz-subset0, HarfBuzz ≥ 4.1) is unavailable."""
    if weasyprint_ffi.harfbuzz_subset is None or not weasyprint_ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        raise HarfBuzzSubsetMissing(
            "HarfBuzz font subsetting is not available: WeasyPrint would fall back to fontTools and take "
            "about 10 times longer per dossier (≈ 22 s instead of ≈ 2 s with Noto Sans CJK). "
            "Install it with: apt-get install libharfbuzz-subset0"
        )


class TemplateFolderFetcher(URLFetcher):
    """Serves file:// URLs inside one folder and refuses everything else (other files, http, data:)."""

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=False)
        self.root = Path(root).resolve()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused to fetch {url!r}: only files of {self.root} are served")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"refused to fetch {url!r}: only files of {self.root} are served")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


# Tagged PDFs (a structure tree: headings, paragraphs, tables, reading order; /MarkInfo /Marked true) for
# screen readers and reflow. WeasyPrint's tags only, not its "pdf/ua-1" variant: that variant claims PDF/UA
# conformance we have no validator to check. Cost measured at ≈ 0–7 % of a document's render time
# (docs/decisions.md, issue 15), so every document is tagged.
PDF_OPTIONS = {"pdf_tags": True}


@cache
def stylesheet(name: str) -> CSS:
    """One stylesheet of report_templates/, parsed once per process and reused by every document it prints:
    parsing print.css and compiling its selectors again for each document was ≈ 6 % of a dossier's render
    (docs/decisions.md, "One parse of the stylesheet per render process"); the PDF bytes are the same."""
    return CSS(url=(TEMPLATES_DIR / name).as_uri(), url_fetcher=TemplateFolderFetcher())


def render_pdf(html: str, stylesheet_name: str | None = None) -> bytes:
    """Tagged PDF bytes for an HTML string, styled by the HTML's own links and, if named, one stylesheet of
    report_templates/ parsed once per process; relative URLs resolve in report_templates/; same input, same
    bytes."""
    check_harfbuzz_subset()
    sheets = [stylesheet(stylesheet_name)] if stylesheet_name else []
    document = HTML(string=html, base_url=str(TEMPLATES_DIR), url_fetcher=TemplateFolderFetcher()).render(
        stylesheets=sheets, **PDF_OPTIONS)
    metadata = document.metadata
    metadata.generator = GENERATOR
    metadata.created = metadata.modified = None
    metadata.attachments = []
    metadata.custom = {}
    return document.write_pdf(**PDF_OPTIONS)


def render_document(template_name: str, context: Mapping[str, Any]) -> bytes:
    """Steps 2 and 3 for any view model: HTML with one template of report_templates/, then PDF bytes printed
    with the template's stylesheet (STYLESHEETS, print.css by default)."""
    return render_pdf(render_html(template_name, context), STYLESHEETS.get(template_name, PRINT_CSS))


def render_village_dossier(*args: Any, **kwargs: Any) -> bytes:
    """The village readiness dossier (村级迎评档案) as PDF bytes; arguments as village_dossier_context."""
    return render_document(VILLAGE_DOSSIER, village_dossier_context(*args, **kwargs))


def render_county_summary(*args: Any, **kwargs: Any) -> bytes:
    """The county summary as PDF bytes; arguments as county_summary_context."""
    return render_document(COUNTY_SUMMARY, county_summary_context(*args, **kwargs))
