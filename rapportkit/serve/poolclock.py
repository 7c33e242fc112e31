"""A cell's time limit counts the time a viewer waits, not the time a preheated kernel idles.

Measured on this stack (voila 0.5.13, nbclient 0.11): a preheated kernel of a dashboard
whose second cell reads the link's query string (``calibration``,
``specialist_progress``) sits in that cell until a viewer arrives, because
``voila.utils.get_query_string`` blocks until Voilà hands the kernel the viewer's
request. nbclient started that cell's clock (``VoilaExecutor.timeout``, 120 s) when the
cell started, so a kernel left in the pool for more than 120 s had "timed out" before
anyone asked: nbclient raised ``CellTimeoutError``, Voilà wrote "Cell execution timed out,
aborting notebook execution…" into the page and stopped rendering, and the *next* viewer
received that page. ``team_overview`` never waits for the query string and was fine.

The fix keeps the limit and moves its start. nbclient waits for a cell's
``execute_reply`` through ``kc.shell_channel.get_msg(timeout)``; :class:`ViewerClockChannel`
(the shell channel of :class:`DashboardKernelClient`, which ``config/voila.py`` installs as
the kernel client) does not let that timeout run while its kernel is still in Voilà's
preheated pool, i.e. while nobody is waiting for it. The moment Voilà takes the kernel out
of the pool for a viewer, the caller gets its whole timeout, counted from then. So:

- whatever the wait between preheating and the first viewer (seconds or days), the page
  renders;
- a cell that truly hangs while a viewer waits still ends in "timed out" after
  ``RAPPORTKIT_CELL_TIMEOUT`` seconds (default 120), counted from the viewer's arrival;
- kernels started for a viewer (no pool, or the pool used up) are never pooled, so their
  cells have the plain limit from the start, exactly as before;
- every timed wait on a pooled kernel's shell channel is held the same way, including the
  executor's start-up wait for ``kernel_info``; a kernel that dies meanwhile is still
  noticed by nbclient's own liveness poll (every second, independent of this clock).

"In the pool" is the test Voilà itself uses to spare pooled kernels from the idle culler
(``VoilaKernelManager.cull_kernel_if_idle``): some finished pool entry names this kernel.

The same happens to the idle culler's clock. A kernel that finished its cells in the pool
(``team_overview``) looks idle for as long as it waits there; the culler spares pooled
kernels, but the moment a viewer took one it was idle "for" its whole wait, and the next
culler pass (every ``cull_interval``) shut it down before the viewer's page had opened its
websocket: the page then said "Kernel does not exist". :class:`PoolAwareKernelManager`
(``VoilaConfiguration.multi_kernel_manager_class``) marks every pooled kernel active at
each culler pass, so a viewer's kernel is idle only from when it left the pool.

One assumption, true of Voilà's executor: the shell channel carries only replies to the
executor's own requests, and the only extra one (setting ``VOILA_KERNEL_ID``) is answered
before the first cell runs. nbclient shortens its next wait after an unrelated reply by
its own clock; to keep that from eating the viewer's time, the largest timeout asked for
while the kernel waited in the pool is what the viewer's clock is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Type

from .zmqfix import SLICE_S, SlicedPollChannel, SlicedPollKernelClient

__all__ = ["ViewerClockChannel", "DashboardKernelClient", "PoolAwareKernelManager", "kernel_is_pooled"]


def kernel_is_pooled(kernel_manager) -> bool:
    """True while the kernel of ``kernel_manager`` waits in Voilà's preheated pool.

    ``kernel_manager`` is the kernel's own manager; its parent is Voilà's multi-kernel
    manager, whose ``_pools`` maps each notebook to the tasks that preheat its kernels
    (each, once done, resolves to a dict naming its ``kernel_id``). Without preheating
    there is no ``_pools`` and no kernel is pooled."""
    kernel_id = getattr(kernel_manager, "kernel_id", None)
    pools = getattr(getattr(kernel_manager, "parent", None), "_pools", None)
    if not kernel_id or not isinstance(pools, dict):
        return False
    for pool in list(pools.values()):
        for entry in list(pool):
            try:
                if entry.done() and not entry.cancelled() and entry.exception() is None:
                    if entry.result().get("kernel_id") == kernel_id:
                        return True
            except Exception:  # noqa: BLE001 - an odd entry is not ours
                continue
    return False


class ViewerClockChannel(SlicedPollChannel):
    """A shell channel whose timeouts wait, unexpired, while no viewer waits for the kernel."""

    #: Returns True while nobody waits for this kernel (set by :class:`DashboardKernelClient`).
    waiting_for_viewer: Callable[[], bool] = staticmethod(lambda: False)
    #: Where to say that a viewer arrived (set by :class:`DashboardKernelClient`).
    log = None
    _budget = 0.0

    async def get_msg(self, timeout: float | None = None):  # type: ignore[override]
        if timeout is None or not self.waiting_for_viewer():
            return await super().get_msg(timeout)
        self._budget = max(self._budget, float(timeout))
        since = time.monotonic()
        while self.waiting_for_viewer():
            if await self.socket.poll(int(SLICE_S * 1000)):
                if not self.waiting_for_viewer():
                    self._viewer_arrived(since)
                return await self._recv()
        return await super().get_msg(self._viewer_arrived(since))

    def _viewer_arrived(self, since: float) -> float:
        """Note that the kernel left the pool; the timeout the viewer's clock starts with."""
        budget, self._budget = self._budget, 0.0
        if self.log is not None:
            self.log.info("A viewer took a preheated kernel that had waited %.0f s for one; "
                          "from now on its cell may run for %g s.", time.monotonic() - since, budget)
        return budget


class DashboardKernelClient(SlicedPollKernelClient):
    """The kernel client of ``rapportkit serve``: sliced polling on every channel
    (:mod:`.zmqfix`) and the viewer's clock on the shell channel."""

    shell_channel_class = Type(ViewerClockChannel)

    @property
    def shell_channel(self):  # type: ignore[override]
        channel = super().shell_channel
        if isinstance(channel, ViewerClockChannel) and "waiting_for_viewer" not in vars(channel):
            manager = self.parent
            channel.waiting_for_viewer = lambda: kernel_is_pooled(manager)
            channel.log = self.log
        return channel


class PoolAwareKernelManager(AsyncMappingKernelManager):
    """The multi-kernel manager under Voilà's pool: a kernel's idle time, for the culler,
    starts when it leaves the pool, not when it last ran something in it."""

    async def cull_kernels(self):
        now = utcnow()
        for kernel_id in list(self._kernels):
            kernel = self._kernels.get(kernel_id)
            if kernel is not None and kernel_is_pooled(kernel):
                kernel.last_activity = now
        await super().cull_kernels()
