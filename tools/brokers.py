"""Install, start, check and stop the real brokers the differential tests compare mqlab with.

    python tools/brokers.py install            # apt-get rabbitmq-server (root), pip install -e .[real]
    python tools/brokers.py start [NAMES...]   # rabbitmq, kafka, sqs (default: all three); prints the settings
    python tools/brokers.py status
    python tools/brokers.py stop [NAMES...]

Three services, none assumed running:

* **RabbitMQ** -- Debian's ``rabbitmq-server`` package (3.10), started without systemd as the
  ``rabbitmq`` user (``setpriv``, ``HOME=/var/lib/rabbitmq``), ready once port 5672 answers and
  ``rabbitmqctl await_startup`` succeeds; the management plugin is enabled offline before the
  start because creating a throwaway vhost over its HTTP API takes about 0.1 s (``rabbitmqctl
  add_vhost`` about 0.5 s). Stopped with SIGTERM to its process group, then ``epmd -kill``.
  It listens on fixed ports, so it is shared by every test session on the machine: each session
  registers itself, and the last one out stops the broker if this tool started it.
* **Kafka** -- no broker package exists here; librdkafka's mock cluster (client option
  ``test.mock.num.brokers``) speaks the real protocol on loopback ports. It lives inside the
  client that created it: :class:`KafkaMockCluster` keeps that client for as long as it is needed.
* **SQS** -- moto's server mode (``python -m moto.server``) on a free loopback port, one per
  session; ``POST /moto-api/reset`` empties it between tests.

``start`` detaches the services, records them under ``$MQLAB_BROKERS_DIR`` (default
``/tmp/mqlab-brokers``) and prints the environment variables that point mqlab's backends and the
test suite at them. The test suite does the same for itself (``tests/realbrokers/conftest.py``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("MQLAB_BROKERS_DIR") or Path(tempfile.gettempdir()) / "mqlab-brokers")

RABBITMQ_HOW_TO_START = (
    "start one with `sudo python3 tools/brokers.py start rabbitmq` (Debian/Ubuntu: installs rabbitmq-server), "
    "or `docker run -d -p 5672:5672 -p 15672:15672 rabbitmq:3.10-management`, "
    "then set MQLAB_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/"
)
KAFKA_HOW_TO_START = (
    "install the real clients (`pip install -e .[real]`): the tests then start librdkafka's mock cluster "
    "themselves; for a notebook run `python3 tools/brokers.py start kafka` and set MQLAB_KAFKA_BOOTSTRAP"
)
SQS_HOW_TO_START = (
    "install the real clients (`pip install -e .[real]`, which includes moto[server]): the tests then start "
    "moto_server themselves; for a notebook run `python3 tools/brokers.py start sqs` and set MQLAB_SQS_ENDPOINT"
)


class BrokerUnavailable(RuntimeError):
    """A broker could not be reached or started; the message says what was tried and how to start one."""


def say(message: str) -> None:
    print(f"[brokers] {message}", file=sys.stderr, flush=True)


# -- small helpers ---------------------------------------------------------------------------------
def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def port_open(host: str, port: int, timeout: float = 0.25) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def wait_until(condition: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process on the machine (two test sessions starting one broker)."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def missing_clients() -> list[str]:
    """Import names of the real clients (and moto's server) that are not installed."""
    import importlib.util

    wanted = ["pika", "confluent_kafka", "boto3", "moto", "flask", "flask_cors"]
    return [name for name in wanted if importlib.util.find_spec(name) is None]


def install_clients() -> None:
    """``pip install -e .[real]`` into the running interpreter's environment, when a client is missing."""
    missing = missing_clients()
    if not missing:
        return
    if sys.prefix == sys.base_prefix and not os.environ.get("MQLAB_PIP_OUTSIDE_VENV"):
        raise BrokerUnavailable(
            f"the real clients are missing ({', '.join(missing)}) and this Python is not a virtual environment; "
            f"run `python3 course.py test` (which uses .venv) or `pip install -e .[real]` yourself"
        )
    say(f"installing the real clients ({', '.join(missing)}): pip install -e .[real]")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", ".[real]"], cwd=ROOT, check=True)


# -- RabbitMQ --------------------------------------------------------------------------------------
class RabbitMQ:
    """The machine's RabbitMQ node: Debian's package, run as the ``rabbitmq`` user without systemd."""

    BIN = Path("/usr/lib/rabbitmq/bin")
    HOME = Path("/var/lib/rabbitmq")
    OWNED_PATHS = (Path("/var/lib/rabbitmq"), Path("/var/log/rabbitmq"), Path("/etc/rabbitmq"))

    def __init__(self, host: str = "127.0.0.1", port: int = 5672, management_port: int = 15672) -> None:
        self.host = host
        self.port = port
        self.management_port = management_port
        self.username = os.environ.get("MQLAB_RABBITMQ_USER", "guest")
        self.password = os.environ.get("MQLAB_RABBITMQ_PASSWORD", "guest")
        self.pid_file = STATE_DIR / "rabbitmq.json"
        self.users_dir = STATE_DIR / "rabbitmq.users"

    # what a client needs
    def url(self, vhost: str = "/") -> str:
        quoted = urllib.parse.quote(vhost, safe="")
        return f"amqp://{self.username}:{self.password}@{self.host}:{self.port}/{quoted}"

    def is_reachable(self) -> bool:
        return port_open(self.host, self.port)

    def is_installed(self) -> bool:
        return (self.BIN / "rabbitmq-server").exists()

    def why_not_startable(self) -> str | None:
        """None when this process can install and start RabbitMQ here; otherwise the reason."""
        if not is_root():
            return "starting RabbitMQ needs root (it runs as the rabbitmq user)"
        if not self.is_installed() and shutil.which("apt-get") is None:
            return "rabbitmq-server is not installed and there is no apt-get to install it"
        if shutil.which("setpriv") is None:
            return "setpriv (util-linux) is missing"
        return None

    # install, start, stop
    def install(self) -> None:
        """``apt-get install rabbitmq-server`` (root, Debian/Ubuntu), then enable the management plugin."""
        if not self.is_installed():
            reason = self.why_not_startable()
            if reason is not None:
                raise BrokerUnavailable(f"cannot install RabbitMQ: {reason}; {RABBITMQ_HOW_TO_START}")
            say("installing rabbitmq-server with apt-get (about 15 s)")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "rabbitmq-server"]
            if subprocess.run(command, env=env, capture_output=True).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
                subprocess.run(command, env=env, check=True, capture_output=True)
        enabled = Path("/etc/rabbitmq/enabled_plugins")
        if "rabbitmq_management" not in (enabled.read_text() if enabled.exists() else ""):
            self._as_rabbitmq(["rabbitmq-plugins", "enable", "--offline", "rabbitmq_management"], check=True)

    def _as_rabbitmq(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        """Run one of RabbitMQ's scripts as the rabbitmq user, with its home (where the Erlang cookie is)."""
        argv = [str(self.BIN / command[0]), *command[1:]]
        if is_root():
            argv = ["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", *argv]
        env = {**os.environ, "HOME": str(self.HOME)}
        kwargs.setdefault("capture_output", True)
        return subprocess.run(argv, env=env, cwd=self.HOME, **kwargs)

    def _fix_ownership(self) -> None:
        """Files created as root (a log, the plugins list) stop a later start as rabbitmq: give them back."""
        for top in self.OWNED_PATHS:
            if not top.exists():
                continue
            for path in [top, *top.rglob("*")]:
                with contextlib.suppress(OSError):
                    if path.stat().st_uid == 0:
                        shutil.chown(path, "rabbitmq", "rabbitmq")

    def start(self, timeout: float = 60.0) -> None:
        """Start the node in the background (its own process group) and wait until it is ready."""
        self.install()
        self._fix_ownership()
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        log = open(STATE_DIR / "rabbitmq.out", "ab")  # noqa: SIM115 -- handed to the child
        argv = ["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", str(self.BIN / "rabbitmq-server")]
        began = time.monotonic()
        process = subprocess.Popen(
            argv,
            env={**os.environ, "HOME": str(self.HOME)},
            cwd=self.HOME,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.pid_file.write_text(json.dumps({"pid": process.pid}))
        if not wait_until(lambda: self.is_reachable() or process.poll() is not None, timeout):
            self.stop()
            raise BrokerUnavailable(f"RabbitMQ did not open port {self.port} within {timeout:g} s; see {log.name}")
        if process.poll() is not None:
            self.pid_file.unlink(missing_ok=True)
            raise BrokerUnavailable(f"RabbitMQ exited at start (code {process.returncode}); see {log.name}")
        waited = self._as_rabbitmq(["rabbitmqctl", "await_startup", "--timeout", str(int(timeout))])
        if waited.returncode != 0:
            self.stop()
            raise BrokerUnavailable(f"rabbitmqctl await_startup failed: {waited.stderr.decode(errors='replace')}")
        if not wait_until(self._management_answers, 10):
            say("the management API did not answer; vhosts will be created with rabbitmqctl")
        say(f"RabbitMQ ready on {self.host}:{self.port} in {time.monotonic() - began:.1f} s")

    def managed_pid(self) -> int | None:
        """The process group this tool started, if it is still running."""
        try:
            pid = int(json.loads(self.pid_file.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None
        return pid if pid_alive(pid) else None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the node's process group, wait for it to go, then stop epmd."""
        pid = self.managed_pid()
        if pid is not None:
            began = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            if not wait_until(lambda: not pid_alive(pid) and not self.is_reachable(), timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            say(f"RabbitMQ stopped in {time.monotonic() - began:.1f} s")
        self.pid_file.unlink(missing_ok=True)
        epmd = shutil.which("epmd")
        if epmd is not None:
            subprocess.run([epmd, "-kill"], capture_output=True)

    # sharing between sessions
    def acquire(self, user: str, allow_start: bool = True) -> bool:
        """Register ``user`` and make sure the node is up; True if this call started it."""
        with locked("rabbitmq"):
            self.users_dir.mkdir(parents=True, exist_ok=True)
            (self.users_dir / user).touch()
            if self.is_reachable():
                return False
            if not allow_start:
                raise BrokerUnavailable(f"nothing listens on {self.host}:{self.port}; {RABBITMQ_HOW_TO_START}")
            reason = self.why_not_startable()
            if reason is not None:
                raise BrokerUnavailable(
                    f"nothing listens on {self.host}:{self.port} and {reason}; {RABBITMQ_HOW_TO_START}"
                )
            self.start()
            return True

    def release(self, user: str) -> None:
        """Unregister ``user``; the last user out stops a node this tool started (never a foreign one)."""
        with locked("rabbitmq"):
            (self.users_dir / user).unlink(missing_ok=True)
            for entry in sorted(self.users_dir.glob("*")) if self.users_dir.exists() else []:
                pid = entry.name.split("-")[0]
                if pid.isdigit() and not pid_alive(int(pid)):
                    entry.unlink(missing_ok=True)
            others = list(self.users_dir.glob("*")) if self.users_dir.exists() else []
            record = json.loads(self.pid_file.read_text()) if self.pid_file.exists() else {}
            if not others and not record.get("pinned") and self.managed_pid() is not None:
                self.stop()

    # vhosts: one throwaway vhost per test keeps tests independent
    def _management_answers(self) -> bool:
        try:
            self._http("GET", "/api/overview")
            return True
        except (OSError, urllib.error.URLError):
            return False

    def _http(self, method: str, path: str, body: dict[str, Any] | None = None) -> int:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://{self.host}:{self.management_port}{path}", data=data, method=method
        )
        token = f"{self.username}:{self.password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)

    def add_vhost(self, name: str) -> str:
        """Create vhost ``name`` with full permissions for the test user; return its AMQP URL."""
        quoted = urllib.parse.quote(name, safe="")
        try:
            self._http("PUT", f"/api/vhosts/{quoted}")
            self._http(
                "PUT",
                f"/api/permissions/{quoted}/{urllib.parse.quote(self.username)}",
                {"configure": ".*", "write": ".*", "read": ".*"},
            )
        except (OSError, urllib.error.URLError):
            for command in (["add_vhost", name], ["set_permissions", "-p", name, self.username, ".*", ".*", ".*"]):
                done = self._as_rabbitmq(["rabbitmqctl", *command])
                if done.returncode != 0:
                    raise BrokerUnavailable(
                        f"could not create vhost {name!r}: the management API did not answer and rabbitmqctl "
                        f"{command[0]} failed: {done.stderr.decode(errors='replace').strip()}"
                    ) from None
        return self.url(name)

    def delete_vhost(self, name: str) -> None:
        """Delete vhost ``name`` and everything in it (queues, exchanges, messages)."""
        quoted = urllib.parse.quote(name, safe="")
        try:
            self._http("DELETE", f"/api/vhosts/{quoted}")
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
        except (OSError, urllib.error.URLError):
            self._as_rabbitmq(["rabbitmqctl", "delete_vhost", name])


# -- SQS: moto's server mode -----------------------------------------------------------------------
class MotoServer:
    """``moto_server`` on a free loopback port; one per session, emptied between tests with :meth:`reset`."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0, detach: bool = False) -> None:
        if missing_clients():
            install_clients()
        self.port = self.port or free_port(self.host)
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        log = open(STATE_DIR / f"moto-{self.port}.out", "ab")  # noqa: SIM115 -- handed to the child
        began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=detach,
        )
        log.close()
        if not wait_until(lambda: self.is_reachable() or self.process.poll() is not None, timeout):
            self.stop()
            raise BrokerUnavailable(f"moto_server did not answer on {self.endpoint} within {timeout:g} s")
        if self.process.poll() is not None:
            raise BrokerUnavailable(f"moto_server exited at start (code {self.process.returncode}); see {log.name}")
        say(f"moto_server ready on {self.endpoint} in {time.monotonic() - began:.1f} s")

    def is_reachable(self) -> bool:
        if self.port is None or not port_open(self.host, self.port):
            return False
        try:
            self.reset()
            return True
        except (OSError, urllib.error.URLError):
            return False

    def reset(self) -> None:
        """Forget every queue and message (moto's ``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# -- Kafka: librdkafka's mock cluster --------------------------------------------------------------
class KafkaMockCluster:
    """librdkafka's in-process mock Kafka cluster, kept alive by the client that created it.

    It speaks the real protocol on loopback ports, so any client (in this process or another) can
    use :attr:`bootstrap`. What it lacks (checked with librdkafka 2.16): admin topic creation
    (auto-created topics always have 4 partitions), group listing, ``offsets_for_times`` and
    read_committed filtering of aborted transactions.
    """

    PARTITIONS = 4
    """Partitions of every topic the mock cluster auto-creates (not configurable from Python)."""

    def __init__(self, num_brokers: int = 3) -> None:
        self.num_brokers = num_brokers
        self._owner: Any = None
        self.bootstrap = ""

    def start(self) -> None:
        if missing_clients():
            install_clients()
        import confluent_kafka

        began = time.monotonic()
        self._owner = confluent_kafka.Producer({"test.mock.num.brokers": self.num_brokers, "log_level": 0})
        brokers = self._owner.list_topics(timeout=10).brokers
        self.bootstrap = ",".join(f"{b.host}:{b.port}" for _, b in sorted(brokers.items()))
        say(f"Kafka mock cluster ({self.num_brokers} brokers) at {self.bootstrap} in {time.monotonic() - began:.1f} s")

    def is_reachable(self) -> bool:
        host, _, port = self.bootstrap.split(",")[0].rpartition(":") if self.bootstrap else ("", "", "0")
        return bool(self.bootstrap) and port_open(host, int(port))

    def stop(self) -> None:
        self._owner = None  # dropping the owning client destroys the cluster
        self.bootstrap = ""


# -- the command line ------------------------------------------------------------------------------
NAMES = ("rabbitmq", "kafka", "sqs")


def _record(name: str, data: dict[str, Any] | None) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"cli-{name}.json"
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(json.dumps(data))


def _recorded(name: str) -> dict[str, Any] | None:
    try:
        return json.loads((STATE_DIR / f"cli-{name}.json").read_text())
    except (OSError, ValueError):
        return None


def _hold_kafka(num_brokers: int) -> int:
    """Keep a mock cluster alive until SIGTERM (the detached process behind ``start kafka``)."""
    cluster = KafkaMockCluster(num_brokers)
    cluster.start()
    print(cluster.bootstrap, flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        time.sleep(0.2)
    cluster.stop()
    return 0


def command_start(names: list[str]) -> int:
    for name in names:
        if name == "rabbitmq":
            broker = RabbitMQ()
            if broker.is_reachable():
                say(f"RabbitMQ already answers on {broker.host}:{broker.port}")
            else:
                broker.start()
                broker.pid_file.write_text(json.dumps({"pid": broker.managed_pid(), "pinned": True}))
            print(f"export MQLAB_RABBITMQ_URL={broker.url()}")
        elif name == "kafka":
            old = _recorded("kafka")
            if old and pid_alive(old["pid"]):
                print(f"export MQLAB_KAFKA_BOOTSTRAP={old['bootstrap']}")
                continue
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            with open(STATE_DIR / "kafka.out", "ab") as log:
                process = subprocess.Popen(
                    [sys.executable, __file__, "_hold-kafka"],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            bootstrap = process.stdout.readline().decode().strip() if process.stdout else ""
            if not bootstrap:
                raise BrokerUnavailable("the Kafka mock cluster did not start (is confluent-kafka installed?)")
            _record("kafka", {"pid": process.pid, "bootstrap": bootstrap})
            print(f"export MQLAB_KAFKA_BOOTSTRAP={bootstrap}")
        elif name == "sqs":
            old = _recorded("sqs")
            if old and pid_alive(old["pid"]):
                print(f"export MQLAB_SQS_ENDPOINT={old['endpoint']}")
                continue
            server = MotoServer(port=int(os.environ.get("MQLAB_MOTO_PORT", "0")) or None)
            server.start(detach=True)
            assert server.process is not None
            _record("sqs", {"pid": server.process.pid, "endpoint": server.endpoint})
            print(f"export MQLAB_SQS_ENDPOINT={server.endpoint}")
    return 0


def command_stop(names: list[str]) -> int:
    for name in names:
        if name == "rabbitmq":
            RabbitMQ().stop()
        else:
            old = _recorded(name)
            if old and pid_alive(old["pid"]):
                os.kill(old["pid"], signal.SIGTERM)
                wait_until(lambda pid=old["pid"]: not pid_alive(pid), 10)
            _record(name, None)
    return 0


def command_status() -> int:
    broker = RabbitMQ()
    print(f"rabbitmq: {'up' if broker.is_reachable() else 'down'} at {broker.host}:{broker.port}")
    for name, key in (("kafka", "bootstrap"), ("sqs", "endpoint")):
        old = _recorded(name)
        up = bool(old) and pid_alive(old["pid"])
        print(f"{name}: {'up at ' + old[key] if up and old else 'down'}")
    missing = missing_clients()
    print(f"clients: {'all installed' if not missing else 'missing ' + ', '.join(missing)}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["install", "start", "stop", "status", "_hold-kafka"])
    parser.add_argument("names", nargs="*", metavar="{rabbitmq,kafka,sqs}", default=[])
    arguments = parser.parse_args(argv)
    names = list(arguments.names) or list(NAMES)
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        parser.error(f"unknown broker {unknown[0]!r}; choose from {', '.join(NAMES)}")
    try:
        if arguments.command == "install":
            install_clients()
            RabbitMQ().install()
            return 0
        if arguments.command == "start":
            return command_start(names)
        if arguments.command == "stop":
            return command_stop(names)
        if arguments.command == "_hold-kafka":
            return _hold_kafka(3)
        return command_status()
    except BrokerUnavailable as error:
        say(str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
