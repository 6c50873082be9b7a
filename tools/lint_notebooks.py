"""Static checks of the shipped course notebooks: template, parameters, stored outputs, links, size, plotly.

    python tools/lint_notebooks.py          # every course notebook; exit 1 on any problem
    python tools/lint_notebooks.py 03 04    # only notebooks whose name starts with these

Each ``check_*`` function takes a notebook (and its path where it needs one)
and returns a list of problems, each naming the notebook, the rule and the
fix. The course gates in tests/notebooks/ call them one by one.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_notebooks import PARAMETERS_TAG, course_paths

MAX_BYTES = 500_000
LESSONS = range(1, 11)  # 01..10 teach with exercises and "break it" experiments; 00 and 11 do not
STUB_TAG = "exercise-stub"
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}
PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ONLINE_RENDERERS = ("connected", "cdn", "iframe", "browser", "colab", "kaggle")

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
NUMBERED_ITEM = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<a\s[^>]*href=[\"']([^\"']+)[\"']", re.IGNORECASE)
REMOTE_SCRIPT = re.compile(r"<script[^>]+src=[\"']?(https?:)?//", re.IGNORECASE)


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: Any) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def headings(notebook: Any) -> list[tuple[int, int, str]]:
    """(cell index, level, text) of every markdown heading, in order."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            text = re.sub(r"```.*?```", "", _source(cell), flags=re.DOTALL)
            found.extend((index, len(m.group(1)), m.group(2)) for m in HEADING.finditer(text))
    return found


def anchor(heading: str) -> str:
    """The id JupyterLab gives a rendered heading: its text with spaces replaced by hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[*_`]", "", text).strip()
    return text.replace(" ", "-")


def _first_numbered_list(text: str) -> int:
    """How many items the first numbered list in ``text`` has (items may be separated by blank lines)."""
    items = 0
    for line in text.splitlines():
        if NUMBERED_ITEM.match(line):
            items += 1
        elif items and line.strip() and not line.startswith((" ", "\t")):
            break
    return items


def _number(path: Path) -> int:
    return int(path.name[:2])


def check_template(path: Path, notebook: Any) -> list[str]:
    """The template's sections, present and in order (ARCHITECTURE.md, 'The course')."""
    name = path.name
    problems = []
    cells = notebook.cells
    first = cells[0] if cells else None
    number = path.name[:2]
    if first is None or first.cell_type != "markdown" or not re.match(rf"#\s+{number}\b", _source(first).lstrip()):
        problems.append(f"{name}: the first cell must be a markdown title '# {number} · <title>'")
    else:
        goals = _source(first).split("In this notebook you will", 1)
        if len(goals) < 2 or _first_numbered_list(goals[1]) != 3:
            problems.append(
                f"{name}: the title cell must list three learning goals after 'In this notebook you will' "
                "(a numbered list of exactly three items)"
            )
    found = headings(notebook)

    def position(pattern: str, level: int = 2) -> tuple[int, int] | None:
        """(cell index, rank among all headings) of the first level-``level`` heading matching ``pattern``."""
        for rank, (index, heading_level, text) in enumerate(found):
            if re.fullmatch(pattern, text, re.IGNORECASE) and heading_level == level:
                return index, rank
        return None

    ordered = [
        ("## Parameters", position(r"parameters")),
        ("## Key points", position(r"key points")),
        ("## Check your understanding", position(r"check your understanding")),
        ("## Further reading", position(r"further reading")),
    ]
    last_title, last_at = "the title", (0, -1)
    for title, at in ordered:
        if at is None:
            problems.append(f"{name}: the section '{title}' is missing (the course template has it in every notebook)")
            continue
        if at < last_at:
            problems.append(f"{name}: the section '{title}' must come after '{last_title}'")
        last_title, last_at = title, at
    if _number(path) in LESSONS:
        parameters_at = ordered[0][1][0] if ordered[0][1] else 0
        key_points_at = ordered[1][1][0] if ordered[1][1] else len(cells)
        break_it = [i for i, _, text in found if "break it" in text.lower() and parameters_at < i < key_points_at]
        if not break_it:
            problems.append(f"{name}: a lesson needs a 'break it' experiment: a heading containing 'Break it'")
        stubs = [i for i, cell in enumerate(cells) if STUB_TAG in _tags(cell) and parameters_at < i < key_points_at]
        if not stubs:
            problems.append(f"{name}: a lesson needs at least one exercise: a code cell tagged '{STUB_TAG}'")
    return problems


def check_parameters(path: Path, notebook: Any) -> list[str]:
    """One code cell tagged 'parameters', right after '## Parameters', holding only NAME = literal lines."""
    name = path.name
    tagged = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and PARAMETERS_TAG in _tags(cell)]
    if len(tagged) != 1:
        return [f"{name}: exactly one code cell must be tagged '{PARAMETERS_TAG}' (papermill injects after it); "
                f"found {len(tagged)}"]
    index = tagged[0]
    problems = []
    section = [i for i, _, text in headings(notebook) if text.strip().lower() == "parameters"]
    if not section or not all(notebook.cells[i].cell_type == "markdown" for i in range(section[0], index)):
        problems.append(f"{name}: the parameters cell must follow the '## Parameters' section directly")
    try:
        body = ast.parse(_source(notebook.cells[index])).body
    except SyntaxError as error:
        return [*problems, f"{name}: the parameters cell does not parse: {error}"]
    for statement in body:
        ok = isinstance(statement, ast.Assign) and len(statement.targets) == 1
        ok = ok and isinstance(statement.targets[0], ast.Name)
        if ok:
            try:
                ast.literal_eval(statement.value)
            except ValueError:
                ok = False
        if not ok:
            problems.append(
                f"{name}: line {statement.lineno} of the parameters cell is not 'NAME = literal'; keep computed "
                "values in the next cell so papermill can override every parameter"
            )
    if not body:
        problems.append(f"{name}: the parameters cell is empty; give it the seed and the sizes")
    return problems


def check_outputs(path: Path, notebook: Any) -> list[str]:
    """Stored outputs: present, error-free, numbered in order, volatile cells tagged for nbval."""
    name = path.name
    problems = []
    code = [(i, cell) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    for expected, (index, cell) in enumerate(code, start=1):
        if cell.execution_count != expected:
            problems.append(
                f"{name}: cell {index} has execution count {cell.execution_count}, expected {expected}: store the "
                "notebook as run top to bottom once (python tools/refresh_notebooks.py)"
            )
            break
    for index, cell in code:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{name}: cell {index} stores an error ({output.get('ename')}); fix it and refresh")
            if output.get("output_type") == "execute_result" and output.get("execution_count") != cell.execution_count:
                problems.append(f"{name}: cell {index} stores a result numbered unlike its cell; refresh the notebook")
            data = output.get("data", {})
            volatile = PLOTLY_MIME in data or WIDGET_MIME in data
            if volatile and not _tags(cell) & IGNORE_TAGS:
                problems.append(
                    f"{name}: cell {index} shows a figure or widget but is not tagged 'nbval-ignore-output'; "
                    "tag it so nbval ignores its volatile ids"
                )
    if code and not any(cell.get("outputs") for _, cell in code):
        problems.append(
            f"{name}: no code cell stores an output, so nbval would compare nothing; "
            "run python tools/refresh_notebooks.py and commit the result"
        )
    if "widgets" in notebook.metadata:
        problems.append(f"{name}: metadata.widgets holds saved widget state; refresh the notebook to strip it")
    return problems


def _targets(notebook: Any) -> list[tuple[int, str]]:
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", "", _source(cell), flags=re.DOTALL)
        found.extend((index, m.group(1)) for m in MARKDOWN_LINK.finditer(text))
        found.extend((index, m.group(1)) for m in HTML_LINK.finditer(text))
    return found


def check_links(path: Path, notebook: Any) -> list[str]:
    """Every relative link resolves to a file, and every '#anchor' to a heading of its notebook."""
    name = path.name
    problems = []
    for index, target in _targets(notebook):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # http:, https:, mailto: ...
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{name}: cell {index} links to {target!r}, which does not exist next to the notebook")
            continue
        if fragment and linked.suffix == ".ipynb":
            other = notebook if linked == path else nbformat.read(linked, as_version=4)
            anchors = {anchor(text) for _, _, text in headings(other)}
            if fragment not in anchors:
                problems.append(
                    f"{name}: cell {index} links to {target!r} but {linked.name} has no heading with that anchor "
                    f"(JupyterLab anchors are the heading text with spaces replaced by '-')"
                )
    return problems


def check_size(path: Path, notebook: Any) -> list[str]:
    """No notebook over 500 KB: such a file does not diff or review."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        return [
            f"{path.name}: {size / 1000:.0f} KB, over the {MAX_BYTES // 1000} KB limit; strip widget state "
            "(tools/refresh_notebooks.py does) and keep stored figures small"
        ]
    return []


def check_plotly_offline(path: Path, notebook: Any) -> list[str]:
    """Figures render offline in JupyterLab: no CDN renderer, no remote script in stored outputs."""
    name = path.name
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        source = _source(cell)
        for match in re.finditer(r"renderers\.default\s*=\s*[\"']([^\"']+)[\"']", source):
            if any(word in match.group(1) for word in ONLINE_RENDERERS):
                problems.append(
                    f"{name}: cell {index} sets the plotly renderer {match.group(1)!r}, which loads plotly.js from "
                    "the internet; leave the default (the JupyterLab mimetype renderer works offline)"
                )
        if re.search(r"include_plotlyjs\s*=\s*[\"']cdn[\"']|connected\s*=\s*True", source):
            problems.append(f"{name}: cell {index} asks plotly for its CDN; figures must render offline")
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if REMOTE_SCRIPT.search(html):
                problems.append(f"{name}: cell {index} stores HTML that loads a script from the internet")
    return problems


CHECKS = (check_template, check_parameters, check_outputs, check_links, check_size, check_plotly_offline)


def lint(path: Path) -> list[str]:
    """Every problem of one notebook file."""
    notebook = nbformat.read(path, as_version=4)
    return [problem for check in CHECKS for problem in check(path, notebook)]


def main(argv: list[str] | None = None) -> int:
    prefixes = sys.argv[1:] if argv is None else argv
    problems = [problem for path in course_paths(prefixes) for problem in lint(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
