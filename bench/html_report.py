"""``report.html``: one self-contained page per ablation (no network; figures embedded).

The same cells as ``table.md`` (``bench.tables``), the figures as inline PNG data, the notes
(protocol and provenance), and links back to the MLflow runs.
"""

from __future__ import annotations

import base64
import html
import os

import pandas as pd

from .tables import ARM_COLUMNS, COMPARISON_COLUMNS, arm_rows, comparison_rows

__all__ = ["render_report", "mlflow_run_url"]

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 2rem auto; max-width: 1180px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.sub { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .3rem .6rem; text-align: right;
         white-space: nowrap; }
td.text, td.verdict { white-space: normal; }
th { background: #f6f8fa; } td:first-child, th:first-child, td.text { text-align: left; }
tr.better td.verdict { color: #1a7f37; font-weight: 600; }
tr.worse td.verdict { color: #cf222e; font-weight: 600; }
td.verdict { text-align: left; } figure { margin: 1rem 0; } figcaption { color: #59636e; }
img { max-width: 100%; border: 1px solid #d1d9e0; } ul.notes li { margin: .3rem 0; }
a { color: #0969da; }
"""


def mlflow_run_url(base: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI's page of one run (``base``: where the UI is served)."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def _table(headers, rows, text_columns=(), classes=None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for header, cell in zip(headers, row):
            kind = "verdict" if header == "verdict" else ("text" if header in text_columns else "")
            cells.append(f'<td class="{kind}">{cell}</td>')
        cls = f' class="{classes[i]}"' if classes else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(path: str | None, caption: str) -> str:
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_report(summary: pd.DataFrame, title: str, notes: list[str], figures: dict,
                  links: dict[str, str], parent_link: str, baseline: str) -> str:
    """The whole page as a string. ``links``: arm -> URL of its MLflow run."""
    def arm_cell(name):
        url = links.get(name)
        text = html.escape(name)
        return f'<a href="{html.escape(url)}">{text}</a>' if url else text

    rows = [[arm_cell(r[0]), *map(html.escape, r[1:])] for r in arm_rows(summary)]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="sub">Built from MLflow: <a href="{html.escape(parent_link)}">the '
             "invocation's parent run</a>; every arm links to its own run.</p>",
             _figure(figures.get("forest"), "Paired differences in test accuracy, with each "
                                            "seed's difference and the verdict"),
             "<h2>Arms</h2>", _table(ARM_COLUMNS, rows, text_columns=("change", "runs"))]
    for prefix, heading in (("prev", "Each arm against the arm it changes"),
                            ("base", f"Each arm against the baseline ({baseline})")):
        comparisons = comparison_rows(summary, prefix)
        if comparisons:
            classes = [c[-1].split(" ")[0] for c in comparisons]
            cells = [[arm_cell(c[0]), html.escape(c[1]), *map(html.escape, c[2:])]
                     for c in comparisons]
            parts += [f"<h2>{html.escape(heading)}</h2>",
                      _table(COMPARISON_COLUMNS, cells, text_columns=("vs",), classes=classes)]
    parts.append(_figure(figures.get("chart"), "Test accuracy per arm, 95% intervals"))
    parts.append(_figure(figures.get("curves"), "Validation curves per arm"))
    parts += ["<h2>Protocol and provenance</h2>",
              '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(p for p in parts if p) + "</body></html>\n")
