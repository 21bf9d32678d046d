"""Reading the Markdown tables that scripts/kt_results.py writes, for tests."""

from __future__ import annotations

from typing import Dict, List


def table_rows(md: str, header: str) -> Dict[str, List[str]]:
    """First cell -> the other cells of each row of the first table whose header line starts with
    ``header``; a first cell holding a `system` name is keyed by that name."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].split("`")[1] if "`" in cells[0] else cells[0]] = cells[1:]
    return rows
