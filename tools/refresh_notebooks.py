"""Re-execute the course notebooks and store their outputs, reproducibly.

    python tools/refresh_notebooks.py              # every notebook in notebooks/
    python tools/refresh_notebooks.py 00 03        # notebooks whose name starts with these
    python tools/refresh_notebooks.py --check      # fail if a stored output would change

Each notebook runs top to bottom in a fresh kernel of this environment with a
per-cell timeout. Afterwards the widget state that JupyterLab would store (for
a FigureWidget, the whole plotly.js bundle) is removed, execution counts are
renumbered 1, 2, 3... and the JSON is written with stable formatting, so the
same sources always give the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 120


def notebook_paths(prefixes: list[str]) -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in prefixes)]
    return paths


def normalise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop volatile metadata and renumber executions so reruns give identical bytes."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = count
    return notebook


def execute(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nbformat.writes(normalise(notebook)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*")
    parser.add_argument("--check", action="store_true", help="do not write; fail if anything would change")
    args = parser.parse_args(argv)
    changed = []
    for path in notebook_paths(args.prefixes):
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        text = execute(path)
        if path.read_text() != text:
            changed.append(path)
            if not args.check:
                path.write_text(text)
    if args.check and changed:
        names = ", ".join(p.name for p in changed)
        print(f"stored outputs are out of date in: {names}; run python tools/refresh_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
