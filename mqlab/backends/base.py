"""What every backend shares: one setting picks the simulator or a real broker, and the simulator's extras
refuse plainly on a real broker.

The setting is an explicit argument, else an environment variable, else nothing (the simulator). The
word ``"simulator"`` as the argument forces the simulator even when the variable is set. With the
simulator nothing touches the network and no real client is imported.
"""

from __future__ import annotations

import importlib
import os
import time
from types import ModuleType
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from mqlab.backends.errors import InvalidBrokerSetting, NotAvailableOnRealBroker, RealClientMissing
from mqlab.sim import Simulation

__all__ = ["SIMULATOR", "Backend", "redact", "resolve_setting"]

SIMULATOR = "simulator"
"""The explicit setting that means "the simulator", whatever the environment says."""


def resolve_setting(explicit: str | None, variable: str) -> str | None:
    """The real broker's address from ``explicit``, else from ``$variable``; None means the simulator."""
    value = explicit if explicit is not None else os.environ.get(variable)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidBrokerSetting(
            f"{variable}: the broker setting must be a string such as a URL or an address, got {type(value).__name__}"
        )
    value = value.strip()
    if value == "" or value.lower() in (SIMULATOR, "sim"):
        return None
    return value


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Backend:
    """A simulator or a real broker behind the same client-shaped API.

    States: *simulator* (``is_real`` False: ``sim`` is the simulation that owns virtual time) or
    *real* (``is_real`` True: the simulator's extras raise :class:`NotAvailableOnRealBroker`).
    The choice is made once, at construction.
    """

    broker_name: ClassVar[str] = "broker"
    setting_variable: ClassVar[str] = "MQLAB_BROKER"
    client_module: ClassVar[str] = ""

    def __init__(self, setting: str | None, sim: Simulation | None, seed: int) -> None:
        self.address = resolve_setting(setting, self.setting_variable)
        self._sim: Simulation | None = None
        if self.address is None:
            self._sim = sim if sim is not None else Simulation(seed=seed)
        elif sim is not None:
            raise InvalidBrokerSetting(
                f"{self.broker_name}: a Simulation was passed but {self.setting_variable} names a real broker "
                f"({redact(self.address)}); pass one or the other"
            )

    # -- which world ---------------------------------------------------------------------------
    @property
    def is_real(self) -> bool:
        """True when this backend talks to a real broker through the real client."""
        return self.address is not None

    def describe(self) -> str:
        """One line for a notebook: which broker the code below runs on."""
        if self.address is None:
            assert self._sim is not None
            return f"mqlab's {self.broker_name} simulator (virtual time, seed {self._sim.seed})"
        return f"a real {self.broker_name} at {redact(self.address)}"

    def not_available(self, feature: str) -> NotAvailableOnRealBroker:
        return NotAvailableOnRealBroker(feature, self.broker_name, self.setting_variable)

    def _client(self) -> ModuleType:
        try:
            return importlib.import_module(self.client_module)
        except ImportError:
            raise RealClientMissing(self.client_module, self.broker_name, self.setting_variable) from None

    # -- the simulator's extras ----------------------------------------------------------------
    @property
    def sim(self) -> Simulation:
        """The simulation (virtual time, the seeded random streams, the trace): simulator only."""
        if self._sim is None:
            raise self.not_available("virtual time (backend.sim)")
        return self._sim

    @property
    def trace(self) -> Any:
        """The simulation's trace: simulator only (a real broker keeps no such record)."""
        return self.sim.trace if self._sim is not None else self._raise("the trace")

    def ledger(self) -> Any:
        """Where every message is now: simulator only."""
        raise NotImplementedError

    def statistics(self) -> Any:
        raise NotImplementedError

    def faults(self) -> Any:
        """Fault injection: simulator only; on the simulator use :mod:`mqlab.faults` on the model itself."""
        if self._sim is None:
            raise self.not_available("fault injection")
        raise NotImplementedError("wrap the model's hooks with mqlab.faults (see the model's docstring)")

    def _raise(self, feature: str) -> Any:
        raise self.not_available(feature)

    # -- time ----------------------------------------------------------------------------------
    def run(self, seconds: float | None = None) -> None:
        """Let the system work: ``seconds`` of virtual time on the simulator, of wall-clock time on a real broker.

        Without ``seconds`` the simulator runs until nothing is left to happen; a real broker has no
        such moment, so it refuses.
        """
        if self._sim is not None:
            if seconds is None:
                self._sim.run()
            else:
                self._sim.run(until=self._sim.now + seconds)
            return
        if seconds is None:
            raise self.not_available("running until idle (run() without seconds)")
        if not seconds >= 0:
            raise ValueError(f"run(seconds={seconds!r}): seconds must be a number >= 0")
        self._pump(seconds)

    def _pump(self, seconds: float) -> None:
        """Real broker: service the client for ``seconds`` of wall-clock time."""
        time.sleep(seconds)

    def close(self) -> None:
        """Close what this backend opened (connections, clients)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"
