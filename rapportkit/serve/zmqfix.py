"""A kernel client whose channels never sleep through a reply.

Measured on this stack (voila 0.5.13, jupyter_client 8, pyzmq 27): now and then a page
stays at "Running …" for ever although its kernel has finished. The kernel's
``execute_reply`` is already waiting in the server's shell socket, but the asyncio poll
inside ``AsyncZMQSocketChannel.get_msg(timeout=None)`` is never woken (a missed
edge-triggered notification), so nbclient waits without end. About 4 % of stock page
loads hung this way in our harness.

Polling in short slices fixes it: each slice that times out makes pyzmq look at the
socket again for real, so a missed wake-up costs at most :data:`SLICE_S` seconds. The
caller's own timeout is still honoured. Voilà picks this up through configuration
(``KernelManager.client_factory``); see ``config/voila.py``.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

__all__ = ["SlicedPollChannel", "SlicedPollKernelClient", "SLICE_S"]

SLICE_S = 0.5


class SlicedPollChannel(AsyncZMQSocketChannel):
    """An async channel that re-checks its socket at least every :data:`SLICE_S` seconds."""

    async def get_msg(self, timeout: float | None = None):  # type: ignore[override]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = SLICE_S if deadline is None else max(0.0, min(SLICE_S, deadline - time.monotonic()))
            if await self.socket.poll(max(1, int(wait * 1000))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedPollKernelClient(AsyncKernelClient):
    """Kernel client using :class:`SlicedPollChannel` for every channel."""

    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)
    stdin_channel_class = Type(SlicedPollChannel)
    control_channel_class = Type(SlicedPollChannel)
