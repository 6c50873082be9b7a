"""Re-execute the course notebooks and store their outputs, reproducibly.

    python tools/refresh_notebooks.py              # every notebook in notebooks/
    python tools/refresh_notebooks.py 00 03        # notebooks whose name starts with these
    python tools/refresh_notebooks.py --check      # fail if a stored output would change

Each notebook runs top to bottom in a fresh kernel of this environment with a
per-cell timeout and an outer deadline (tools/course_notebooks.py). Afterwards
the widget state that JupyterLab would store (for a FigureWidget, the whole
plotly.js bundle) is removed, identifiers that are random by nature (widget
model ids, plotly trace uids, the address in a default object repr) are
replaced by numbered stand-ins in order of appearance, consecutive prints to
the same stream are merged into one output (as JupyterLab shows them; how the
kernel splits them depends on timing), execution counts are
renumbered 1, 2, 3... and the JSON is written with stable formatting, so the
same sources always give the same bytes. Any other output that changes from
run to run is a real non-determinism: fix its source (seed it from sim.rng).

Each notebook's variants (the solved one, with every exercise stub replaced by
its reference solution and checks in strict mode) are executed too: a variant
that fails makes the script fail. Variants are not stored in the repository;
``--variants-to DIR`` writes them, executed and normalised, to DIR.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_notebooks import (
    ROOT,
    CourseNotebook,
    Execution,
    course_notebooks,
    error_outputs,
    execute,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Only identifiers that are random by nature are renamed: a plotly trace's uid in a figure's repr, and the
# memory address in a default object repr. Any other changing value is a real non-determinism to fix.
UUID = re.compile(r"(?<=[\"']uid[\"']: [\"'])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ADDRESS = re.compile(r"(?<= at )0x[0-9a-f]{6,16}\b")


class _Renamer:
    """Replace each distinct random identifier by a numbered stand-in of the same shape."""

    def __init__(self) -> None:
        self.uuids: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.model_ids: dict[str, str] = {}

    def uuid(self, match: re.Match[str]) -> str:
        return self.uuids.setdefault(match.group(0), f"00000000-0000-4000-8000-{len(self.uuids) + 1:012d}")

    def address(self, match: re.Match[str]) -> str:
        return self.addresses.setdefault(match.group(0), f"0x{len(self.addresses) + 1:012x}")

    def model_id(self, value: str) -> str:
        return self.model_ids.setdefault(value, f"{len(self.model_ids) + 1:032x}")

    def text(self, value: Any) -> Any:
        if isinstance(value, str):
            return ADDRESS.sub(self.address, UUID.sub(self.uuid, value))
        if isinstance(value, list):
            return [self.text(item) for item in value]
        if isinstance(value, dict):
            return {key: self.text(item) for key, item in value.items()}
        return value


def coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Merge consecutive stream outputs of the same stream, as JupyterLab shows them.

    How a cell's prints are split into messages depends on when the kernel flushes its output, so
    without merging, two runs of the same cell could store differently split outputs.
    """
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def normalise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop volatile metadata, rename random ids and renumber executions so reruns give identical bytes."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    renamer = _Renamer()
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = coalesce_streams(cell.get("outputs", []))
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = count
            view = output.get("data", {}).get(WIDGET_VIEW)
            if isinstance(view, dict) and "model_id" in view:
                view["model_id"] = renamer.model_id(view["model_id"])
            for key in ("data", "text", "metadata"):
                if key in output:
                    output[key] = nbformat.from_dict(renamer.text(output[key]))
    return notebook


def serialise(notebook: nbformat.NotebookNode) -> str:
    """The bytes a notebook is stored as."""
    return nbformat.writes(notebook) + "\n"


@dataclass
class Refreshed:
    """A notebook variant executed and normalised; ``text`` is what would be stored."""

    notebook: CourseNotebook
    execution: Execution
    text: str

    @property
    def problem(self) -> str | None:
        """Why this execution cannot be stored, or None."""
        if self.execution.error is not None:
            first_line = str(self.execution.error).strip().splitlines()[-1:] or [type(self.execution.error).__name__]
            return f"{self.notebook.id} failed: {type(self.execution.error).__name__}: {first_line[0]}"
        errors = error_outputs(self.execution.notebook)
        if errors:
            return f"{self.notebook.id} stores error outputs: {'; '.join(errors)}"
        return None

    @property
    def stale(self) -> bool:
        """True when the shipped file differs from what this execution would store."""
        return self.notebook.path.read_text() != self.text


def refresh(notebook: CourseNotebook) -> Refreshed:
    """Execute one notebook variant at its default parameters and normalise the result."""
    execution = execute(notebook.load(), label=notebook.id, env=notebook.variant.env)
    return Refreshed(notebook, execution, serialise(normalise(execution.notebook)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*")
    parser.add_argument("--check", action="store_true", help="do not write; fail if anything would change")
    parser.add_argument("--variants-to", type=Path, help="also write the executed variants (solved...) here")
    args = parser.parse_args(argv)
    stale, problems = [], []
    for notebook in course_notebooks(args.prefixes):
        print(f"executing {notebook.path.relative_to(ROOT)} ({notebook.variant.name})", end=" ", flush=True)
        result = refresh(notebook)
        print(f"{result.execution.seconds:.1f} s", flush=True)
        if result.problem:
            problems.append(result.problem)
            continue
        if not notebook.shipped:
            if args.variants_to:
                args.variants_to.mkdir(parents=True, exist_ok=True)
                (args.variants_to / f"{notebook.id}.ipynb").write_text(result.text)
            continue
        if result.stale:
            stale.append(notebook.path)
            if not args.check:
                notebook.path.write_text(result.text)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check and stale:
        names = ", ".join(p.name for p in stale)
        print(f"stored outputs are out of date in: {names}; run python tools/refresh_notebooks.py", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
