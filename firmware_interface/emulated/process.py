"""Emulated sensors in their own process, so the simulated wearer and the virtual radio take
none of tiltwatch's CPU time and behave like a real sensor beside a busy app.

The child process holds the whole virtual radio: the emulated peripherals and the controller of
tiltwatch's adapter. Only the adapter's HCI traffic crosses to tiltwatch, over a socket pair, to
the central's bumble host in tiltwatch's process (``HciStreamRadio``), which the bleak backend
drives as usual. The child ends when the socket closes (tiltwatch quit or died) or on SIGTERM.

    python -m firmware_interface.emulated.process FD KEY SCENARIO SEED FAULTS
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import AsyncIterator

from firmware_interface.emulated.faults import FaultSpec

READY = b"ready\n"
"""What the child writes on stdout once its sensors advertise."""
NO_FAULTS = "none"
START_TIMEOUT_S = 60.0
"""Starting Python with bumble and NumPy takes seconds on a loaded machine."""


@dataclass(frozen=True)
class EmulatorProcess:
    """A running emulator: ``radio`` reaches it through bleak; ``pid`` for CPU accounting."""

    radio: object
    pid: int


@contextlib.asynccontextmanager
async def emulator_process(keys: list[str], *, scenario: str, seed: int,
                           faults: FaultSpec = FaultSpec()) -> AsyncIterator[EmulatorProcess]:
    """Start emulated sensors for ``keys`` in a child process; stop it on exit."""
    from firmware_interface.transport.bumble_backend.radio import HciStreamRadio

    ours, theirs = socket.socketpair()
    child = subprocess.Popen(
        [sys.executable, "-m", "firmware_interface.emulated.process", str(theirs.fileno()), ",".join(keys),
         scenario, str(seed), str(faults) or NO_FAULTS],
        pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    theirs.close()
    radio = HciStreamRadio(ours)
    try:
        ready = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), START_TIMEOUT_S)
        if ready != READY:
            raise RuntimeError(f"the emulator process did not start (exit code {child.poll()})")
        yield EmulatorProcess(radio, child.pid)
    finally:
        await radio.close()
        if child.poll() is None:
            child.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(child.wait, 2.0)
        if child.poll() is None:
            child.kill()
        child.stdout.close()


async def _serve(fd: int, keys: list[str], scenario: str, seed: int, faults: FaultSpec) -> None:
    from bumble.transport.common import StreamPacketSink, StreamPacketSource

    from firmware_interface.emulated import MODELS, EmulatedSensor
    from firmware_interface.transport.bumble_backend.radio import VirtualRadio

    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    class _HostLink(StreamPacketSource):
        def connection_lost(self, exc: Exception | None) -> None:
            if not closed.done():
                closed.set_result(None)

    transport, host_link = await loop.create_connection(_HostLink, sock=socket.socket(fileno=fd))
    radio = VirtualRadio(seed=seed)
    radio.add_remote_host_controller(host_link, StreamPacketSink(transport))
    sensors = [EmulatedSensor(MODELS[key](), radio, scenario=scenario, seed=seed + i, faults=faults)
               for i, key in enumerate(keys)]
    loop.add_signal_handler(signal.SIGTERM, lambda: closed.done() or closed.set_result(None))
    try:
        for sensor in sensors:
            await sensor.start()
        os.write(sys.stdout.fileno(), READY)
        await closed
    finally:
        for sensor in sensors:
            await sensor.stop()
        await radio.close()
        transport.close()


def main(argv: list[str]) -> None:
    fd, keys, scenario, seed, faults = argv
    # Packets in flight at teardown are expected here; nobody reads the child's stderr warnings.
    logging.getLogger("bumble").setLevel(logging.ERROR)
    spec = FaultSpec() if faults == NO_FAULTS else FaultSpec.parse(faults)
    asyncio.run(_serve(int(fd), keys.split(","), scenario, int(seed), spec))


if __name__ == "__main__":
    main(sys.argv[1:])
