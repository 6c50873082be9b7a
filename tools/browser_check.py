"""Open course notebooks in JupyterLab in a real browser, run them, and check what a learner would see.

    python tools/browser_check.py                    # every course notebook (and its variants)
    python tools/browser_check.py 00 03 --shots DIR  # some of them; screenshots to DIR (default artifacts/browser)

JupyterLab starts on a free loopback port with a token and its own config,
data, runtime, settings and workspace folders (news, update checks and the
announcements pop-up off, autosave off, every cell attached to the page), on a
temporary copy of the notebooks, so nothing in the repository is modified. It
is launched through ``binder/start``, as Binder launches it. Debian's Chromium
(``/usr/bin/chromium``; ``apt-get install -y chromium``) is driven by
Playwright, headless, without sandbox and background networking.

For each notebook: open it, wait until its kernel reports ``idle`` (readiness
comes from the kernel's status, never from a CSS selector), clear the stored
outputs, run every cell with JupyterLab's own ``notebook:run-all-cells``
command (each cell may run at most ``CELL_TIMEOUT`` seconds, the notebook at
most ``NOTEBOOK_DEADLINE``), then check: no cell error; every widget output
rendered as a widget; every plotly figure drawn; in each dashboard (a cell
showing a slider or a dropdown) moving one control changes an output, a figure
or an HTML pane; and no request left the machine (every request is recorded
and anything not addressed to a loopback host is refused and reported).
Screenshots of each notebook after running are saved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nbformat
from course_notebooks import CELL_TIMEOUT, NOTEBOOK_DEADLINE, ROOT, CourseNotebook, course_notebooks

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]
INSTALL_HINT = "install Debian's Chromium: sudo apt-get install -y chromium (python3 course.py test does it as root)"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
SERVER_START_TIMEOUT = 90
CONTROL_TIMEOUT = 15  # seconds for a dashboard to react to a moved control
SETTLE_SECONDS = 1.0  # a dashboard has finished redrawing once nothing changed for this long
RENDER_TIMEOUT = 20  # seconds for figures and widgets to draw once the kernel is idle
VIEWPORT = {"width": 1400, "height": 1000}

# Lab settings for an unattended run: no autosave (the copy must not change), every cell in the page
# (JupyterLab otherwise only attaches the cells in view), no news or update checks.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def chromium_missing() -> str | None:
    """Why the browser check cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


def is_loopback(url: str) -> bool:
    """True for URLs the browser may fetch: loopback hosts, and data:, blob:, about: pages."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome", "chrome-extension"}:
        return True
    host = (parts.hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab server on a free loopback port, isolated from the user's Jupyter set-up."""

    def __init__(self, root: Path, workdir: Path, through_binder_start: bool = True) -> None:
        self.root = root
        self.workdir = workdir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.through_binder_start = through_binder_start
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "jupyterlab.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{separator}token={self.token}"

    def _prepare(self) -> dict[str, str]:
        names = ("config", "data", "runtime", "settings", "workspaces", "ipython")
        dirs = {name: self.workdir / name for name in names}
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        (dirs["config"] / "labconfig").mkdir(exist_ok=True)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        for name, values in SETTINGS.items():
            target = dirs["settings"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            IPYTHONDIR=str(dirs["ipython"]),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )
        env.pop("JUPYTER_CONFIG_PATH", None)
        self.settings_dir, self.workspaces_dir = dirs["settings"], dirs["workspaces"]
        return env

    def start(self) -> None:
        env = self._prepare()
        command = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={self.settings_dir}",
            f"--LabApp.workspaces_dir={self.workspaces_dir}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        if self.through_binder_start:
            command = ["bash", str(ROOT / "binder" / "start"), *command]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url("/api/status"), timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s; see {self.log_path}")

    def redirect_of(self, path: str) -> str:
        """Where the server redirects ``path`` to (without following)."""

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(self.url(path), timeout=10) as answer:
                return answer.headers.get("Location", "")
        except urllib.error.HTTPError as answer:
            return answer.headers.get("Location", "")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Requests:
    """Every URL the browser asked for, and those refused for leaving the machine."""

    seen: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


class Browser:
    """Headless Chromium under Playwright, with every request recorded and non-loopback ones refused."""

    def __init__(self) -> None:
        self.requests = Requests()

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        self.context = self._browser.new_context(viewport=VIEWPORT, service_workers="block")
        self.context.route("**/*", self._route)
        # HTTP(S) requests pass through the route; websockets do not, so each page reports its own.
        self.context.on("page", lambda page: page.on("websocket", lambda ws: self._record(ws.url)))
        return self

    def _record(self, url: str) -> None:
        self.requests.seen.append(url)
        if not is_loopback(url):
            self.requests.outside.append(url)

    def _route(self, route: Any) -> None:
        url = route.request.url
        self._record(url)
        if is_loopback(url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.context.close()
            self._browser.close()
        self._playwright.stop()


# --- what runs in the page -------------------------------------------------------------------------------

JS_OPEN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  window.__mqlab = {panel, result: undefined, error: undefined};
  await panel.context.ready;
  app.shell.activateById(panel.id);
  return panel.id;
}"""

JS_KERNEL_STATUS = """() => {
  const panel = window.__mqlab && window.__mqlab.panel;
  if (!panel) return 'no panel';
  const session = panel.sessionContext;
  if (!session.isReady || !session.session || !session.session.kernel) return 'starting';
  return session.session.kernel.status;
}"""

JS_RUN_ALL = """async () => {
  const app = window.jupyterapp, state = window.__mqlab;
  app.shell.activateById(state.panel.id);
  await app.commands.execute('notebook:clear-all-cell-outputs');
  state.started = Date.now();
  app.commands.execute('notebook:run-all-cells').then(
    (result) => { state.result = result === undefined ? true : result; },
    (error) => { state.error = String(error); state.result = false; });
}"""

JS_PROGRESS = """() => {
  const state = window.__mqlab, panel = state.panel;
  const cells = Array.from(panel.content.model.cells);
  let running = -1;
  cells.forEach((cell, index) => {
    if (running < 0 && cell.type === 'code' && cell.executionState === 'running') running = index;
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {done: state.result !== undefined, error: state.error || null, running,
          kernel: kernel ? kernel.status : 'none'};
}"""

JS_SUMMARY = """() => {
  const panel = window.__mqlab.panel;
  const widgets = panel.content.widgets;
  const cells = [];
  Array.from(panel.content.model.cells).forEach((cell, index) => {
    if (cell.type !== 'code') return;
    const outputs = cell.outputs.toJSON();
    const view = widgets[index];
    const node = view.node;
    const children = view.outputArea ? view.outputArea.widgets : [];
    const rendered = (mime, selector) => outputs.filter((o, i) =>
      o.data && o.data[mime] && children[i] && children[i].node.querySelector(selector)).length;
    const figures = Array.from(node.querySelectorAll('.js-plotly-plot'));
    cells.push({
      index,
      source: cell.sharedModel.getSource(),
      executed: cell.executionCount !== null,
      errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
      plotly: outputs.filter(o => o.data && o.data['application/vnd.plotly.v1+json']).length,
      drawnPlotly: rendered('application/vnd.plotly.v1+json', '.js-plotly-plot svg.main-svg'),
      widgetViews: outputs.filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length,
      renderedWidgets: rendered('application/vnd.jupyter.widget-view+json', '.jupyter-widgets'),
      widgetErrors: (node.innerText.match(/Error displaying widget[^\\n]*/g) || []),
      figures: figures.length,
      drawnFigures: figures.filter(f => f.querySelector('svg.main-svg')).length,
      controls: node.querySelectorAll('.widget-slider, .widget-dropdown').length,
    });
  });
  return cells;
}"""

JS_SIGNATURE = """() => {
  const panel = window.__mqlab.panel;
  const parts = [];
  panel.content.node.querySelectorAll('.widget-output, .js-plotly-plot, .widget-html-content, .widget-image')
    .forEach(el => parts.push(el.innerHTML));
  let hash = 0;
  const text = parts.join('\\u0000');
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return `${text.length}:${hash}`;
}"""

JS_CLOSE = """async () => {
  const state = window.__mqlab;
  if (!state || !state.panel) return;
  try { await state.panel.sessionContext.shutdown(); } catch (e) {}
  state.panel.context.model.dirty = false;
  state.panel.dispose();
  window.__mqlab = undefined;
}"""


@dataclass
class BrowserReport:
    """What a learner would have seen in one notebook."""

    notebook: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    figures: int = 0
    widgets: int = 0
    dashboards: int = 0


def _wait_for_kernel(page: Any, status: str, deadline: float, report: BrowserReport, what: str) -> bool:
    last = ""
    while time.monotonic() < deadline:
        last = page.evaluate(JS_KERNEL_STATUS)
        if last == status:
            return True
        if last in {"dead", "autorestarting"}:
            break
        time.sleep(0.2)
    report.problems.append(f"{report.notebook}: the kernel never became {status} {what} (last status: {last})")
    return False


def _run_all(page: Any, deadline: float, cell_timeout: float, report: BrowserReport) -> bool:
    page.evaluate(JS_RUN_ALL)
    running, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        progress = page.evaluate(JS_PROGRESS)
        if progress["error"]:
            report.problems.append(f"{report.notebook}: run-all-cells failed: {progress['error']}")
            return False
        if progress["done"] and progress["kernel"] == "idle":
            return True
        if progress["kernel"] == "dead":
            report.problems.append(f"{report.notebook}: the kernel died while running the notebook")
            return False
        if progress["running"] != running:
            running, since = progress["running"], time.monotonic()
        elif running >= 0 and time.monotonic() - since > cell_timeout:
            report.problems.append(f"{report.notebook}: cell {running} ran over its {cell_timeout:.0f} s timeout")
            return False
        time.sleep(0.25)
    report.problems.append(f"{report.notebook}: running all cells did not finish within the notebook's deadline")
    return False


def _undrawn(cell: dict[str, Any]) -> bool:
    """True while a figure or widget of this cell has not drawn yet."""
    return (
        cell["drawnFigures"] < cell["figures"]
        or cell["drawnPlotly"] < cell["plotly"]
        or cell["renderedWidgets"] < cell["widgetViews"]
    )


def _settle(page: Any, deadline: float, render_timeout: float) -> list[dict[str, Any]]:
    """The cell summary once figures and widgets have drawn (or the render timeout passed)."""
    end = min(deadline, time.monotonic() + render_timeout)
    while True:
        cells = page.evaluate(JS_SUMMARY)
        pending = [c for c in cells if _undrawn(c)]
        if not pending or time.monotonic() > end:
            return cells
        time.sleep(0.25)


def _move_control(cell: Any) -> str | None:
    """Move the first enabled slider or dropdown of a cell (a locator); what was moved, or None."""
    dropdowns = cell.locator(".widget-dropdown select:not([disabled])")
    if dropdowns.count():
        select = dropdowns.first
        options = select.locator("option")
        current = select.input_value()
        for i in range(options.count()):
            value = options.nth(i).get_attribute("value")
            if value != current:
                select.select_option(value=value)
                return f"dropdown set to option {i}"
        return None
    handles = cell.locator(".widget-slider:not(.mod-disabled) .noUi-handle")
    if handles.count():
        handle = handles.first
        handle.scroll_into_view_if_needed()
        handle.focus()
        before = handle.get_attribute("aria-valuenow")
        handle.press("ArrowRight")
        if handle.get_attribute("aria-valuenow") == before:
            handle.press("ArrowLeft")
        return f"slider moved from {before} to {handle.get_attribute('aria-valuenow')}"
    return None


def _check_cells(report: BrowserReport, cells: list[dict[str, Any]]) -> None:
    """Errors, unexecuted cells, widgets and figures that did not render."""
    for cell in cells:
        where = f"{report.notebook}: cell {cell['index']}"
        if cell["source"].strip() and not cell["executed"]:
            report.problems.append(f"{where} was not executed")
        report.problems.extend(f"{where} raised {error}" for error in cell["errors"])
        report.problems.extend(f"{where}: {message}" for message in cell["widgetErrors"])
        if cell["renderedWidgets"] < cell["widgetViews"]:
            report.problems.append(
                f"{where}: {cell['widgetViews']} widget output(s) but {cell['renderedWidgets']} rendered as "
                "widgets; are the ipywidgets and anywidget labextensions installed?"
            )
        if cell["drawnPlotly"] < cell["plotly"] or cell["drawnFigures"] < cell["figures"]:
            report.problems.append(
                f"{where}: {cell['plotly']} plotly figure output(s) and {cell['figures']} figure(s) on the page, "
                f"but only {cell['drawnFigures']} drawn; is the jupyterlab-plotly labextension installed?"
            )
        report.figures += cell["drawnFigures"]
        report.widgets += cell["renderedWidgets"]


def _wait_for_change(page: Any, before: str, end: float) -> str:
    """The page's output signature once it changed and then stayed quiet (or ``before`` if it never changed)."""
    after = page.evaluate(JS_SIGNATURE)
    while after == before and time.monotonic() < end:
        time.sleep(0.2)
        after = page.evaluate(JS_SIGNATURE)
    quiet_since = time.monotonic()
    while after != before and time.monotonic() < end and time.monotonic() - quiet_since < SETTLE_SECONDS:
        time.sleep(0.2)
        now = page.evaluate(JS_SIGNATURE)
        if now != after:
            after, quiet_since = now, time.monotonic()
    return after


def _check_dashboards(
    page: Any, cell_nodes: Any, cells: list[dict[str, Any]], report: BrowserReport, shots: Path, **limits: float
) -> None:
    """In each cell showing a slider or a dropdown, move one and require some output, figure or pane to change."""
    for cell in cells:
        if not cell["controls"]:
            continue
        report.dashboards += 1
        before = page.evaluate(JS_SIGNATURE)
        moved = _move_control(cell_nodes.nth(cell["index"]))
        if moved is None:
            report.problems.append(f"{report.notebook}: cell {cell['index']} shows controls but none could be moved")
            continue
        end = min(limits["deadline"], time.monotonic() + limits["control_timeout"])
        if _wait_for_change(page, before, end) == before:
            report.problems.append(
                f"{report.notebook}: cell {cell['index']}: {moved}, but no output, figure or HTML pane changed "
                f"within {limits['control_timeout']:.0f} s"
            )
        shot = shots / f"{report.notebook}-cell{cell['index']}.png"
        cell_nodes.nth(cell["index"]).screenshot(path=str(shot))
        report.screenshots.append(shot)


def check_notebook(
    page: Any,
    relpath: str,
    shots: Path,
    *,
    label: str,
    cell_timeout: float = CELL_TIMEOUT,
    deadline_seconds: float = NOTEBOOK_DEADLINE,
    control_timeout: float = CONTROL_TIMEOUT,
    render_timeout: float = RENDER_TIMEOUT,
    prepare: str | None = None,
) -> BrowserReport:
    """Open, run and check one notebook served at ``relpath``; screenshots go to ``shots``.

    ``prepare``, a JavaScript function, is evaluated in the page once the kernel is idle, before running
    (the tests use it to take a renderer away and see the check fail).
    """
    report = BrowserReport(label)
    start = time.monotonic()
    deadline = start + deadline_seconds
    page.set_default_timeout(30_000)
    try:
        panel_id = page.evaluate(JS_OPEN, relpath)
        cell_nodes = page.locator(f"[id='{panel_id}'] .jp-Notebook .jp-Cell")
        if not _wait_for_kernel(page, "idle", deadline, report, "after opening"):
            return report
        if prepare:
            page.evaluate(prepare)
        if not _run_all(page, deadline, cell_timeout, report):
            return report
        cells = _settle(page, deadline, render_timeout)
        _check_cells(report, cells)
        shots.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => window.__mqlab.panel.content.widgets[0].node.scrollIntoView()")
        top = shots / f"{label}.png"
        page.screenshot(path=str(top))
        report.screenshots.append(top)
        _check_dashboards(
            page, cell_nodes, cells, report, shots, deadline=deadline, control_timeout=control_timeout
        )
        first_figure = next((c for c in cells if c["drawnFigures"]), None)
        if first_figure is not None and not report.dashboards:
            shot = shots / f"{label}-cell{first_figure['index']}.png"
            cell_nodes.nth(first_figure["index"]).screenshot(path=str(shot))
            report.screenshots.append(shot)
    finally:
        with contextlib.suppress(Exception):
            page.evaluate(JS_CLOSE)
        report.seconds = time.monotonic() - start
    return report


def serve_course(workdir: Path) -> Lab:
    """A started Lab serving a temporary copy of notebooks/ (through binder/start, as on Binder)."""
    root = workdir / "course"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    lab = Lab(root, workdir / "lab")
    lab.start()
    return lab


class Session:
    """A Browser with a page on which ``lab``'s JupyterLab is loaded (a Lab of its own if none is given)."""

    def __init__(self, workdir: Path, lab: Lab | None = None) -> None:
        self.workdir = workdir
        self.lab = lab
        self.owns_lab = lab is None
        self.browser: Browser | None = None
        self.page: Any = None

    @property
    def root(self) -> Path:
        assert self.lab is not None
        return self.lab.root

    def __enter__(self) -> Session:
        if self.lab is None:
            self.lab = serve_course(self.workdir)
        try:
            self.browser = Browser().__enter__()
            self.page = self.browser.context.new_page()
            self.page.goto(self.lab.url("/lab?reset"), timeout=90_000)
            self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=90_000)
            self.page.evaluate("() => window.jupyterapp.started")
            self.page.evaluate("() => window.jupyterapp.restored")
        except BaseException:
            self.__exit__()
            raise
        return self

    def place(self, notebook: Any, name: str) -> str:
        """Write ``notebook`` into the served copy as notebooks/<name>.ipynb; its path relative to the root."""
        relpath = f"notebooks/{name}.ipynb"
        nbformat.write(notebook, self.root / relpath)
        return relpath

    def check_document(self, notebook: Any, name: str, shots: Path, **options: Any) -> BrowserReport:
        """Open, run and check any notebook (served as notebooks/<name>.ipynb); ``options`` as check_notebook's."""
        return check_notebook(self.page, self.place(notebook, name), shots, label=name, **options)

    def check(self, notebook: CourseNotebook, shots: Path) -> BrowserReport:
        """Open, run and check a course notebook in its variant (kernel environment set by a first cell)."""
        derived = notebook.load()
        if notebook.variant.env:
            setup = "import os\nos.environ.update(" + json.dumps(notebook.variant.env) + ")"
            derived.cells.insert(0, nbformat.v4.new_code_cell(setup))
        name = notebook.path.stem if notebook.shipped else f"{notebook.path.stem}.{notebook.variant.name}"
        report = self.check_document(derived, name, shots)
        report.notebook = notebook.id
        return report

    def __exit__(self, *exc: object) -> None:
        if self.browser is not None:
            self.browser.__exit__()
        if self.lab is not None and self.owns_lab:
            self.lab.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*")
    parser.add_argument("--shots", type=Path, default=ROOT / "artifacts" / "browser")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="mqlab-browser-") as workdir, Session(Path(workdir)) as session:
        for notebook in course_notebooks(args.prefixes):
            if not notebook.variant.in_browser:
                continue
            report = session.check(notebook, args.shots)
            print(
                f"{notebook.id}: {report.seconds:.1f} s, {report.figures} figure(s), {report.widgets} widget(s), "
                f"{report.dashboards} dashboard(s), screenshots in {args.shots}"
            )
            for problem in report.problems:
                failed = True
                print(f"  {problem}")
        assert session.browser is not None
        for url in session.browser.requests.outside:
            failed = True
            print(f"  request outside this machine, refused: {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
