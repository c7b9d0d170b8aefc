"""A dashboard page as CSV: exactly the tables the page shows (k-anonymity included), with
cells that spreadsheets would run as formulas made harmless."""

from __future__ import annotations

import csv
import io

from bot.web.dashboard.figures import Page
from bot.web.dashboard.filters import FilterState, StatView, Words

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` as a spreadsheet shows it and never runs: a cell starting like a formula
    (``= + - @``, tab, carriage return) gets a leading ``'`` (also for ``vecu export``)."""
    return "'" + value if value.startswith(CSV_FORMULA_START) else value


def page_csv(page: Page, words: Words, filters: FilterState) -> str:
    """The page's key figures and tables as one tidy CSV: one line per number, unformatted.

    Columns: section, row, measure, value, ci_low, ci_high, n, status, note. A suppressed
    cell has an empty value, n and CI, status ``suppressed`` and the reason in ``note``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["section", "row", "measure", "value", "ci_low", "ci_high", "n", "status", "note"]
    )
    for key, value in filters.params().items():
        writer.writerow(["filter", key, "", csv_text(value), "", "", "", "", ""])

    def num(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    headline = words("dashboard.headline")
    for card in page.cards:
        stat = card.stat
        writer.writerow(
            [
                headline,
                csv_text(card.label),
                words("dashboard.col.score"),
                num(stat.value),
                num(stat.low),
                num(stat.high),
                "" if stat.n is None else stat.n,
                stat.status,
                csv_text(stat.note),
            ]
        )
    for table in page.tables:
        for row in table.rows:
            label = row[0] if isinstance(row[0], str) else row[0].text
            for column, cell in zip(table.columns[1:], row[1:], strict=False):
                if isinstance(cell, StatView):
                    writer.writerow(
                        [
                            table.title,
                            csv_text(label),
                            column,
                            num(cell.value),
                            num(cell.low),
                            num(cell.high),
                            "" if cell.n is None else cell.n,
                            cell.status,
                            csv_text(cell.note),
                        ]
                    )
                else:
                    writer.writerow(
                        [table.title, csv_text(label), column, csv_text(cell), "", "", "", "", ""]
                    )
    return out.getvalue()
