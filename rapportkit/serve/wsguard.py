"""Bounded kernel websockets: what a page sends its kernel is checked before anything is built from it.

Measured on this stack (voila 0.5.13, jupyter_server 2.x, tornado 6):

- **v1 subprotocol** (``v1.kernel.websocket.jupyter.org``, what browsers use):
  ``jupyter_server``'s ``deserialize_msg_from_ws_v1`` reads the first 8 bytes of a binary
  frame as the number of offsets and builds that many before looking at the frame's
  length. One 24-byte frame declaring 2×10⁸ offsets froze the server for ≥ 45 s while
  it grew to 3 GB.
- **legacy protocol** (no subprotocol): ``deserialize_binary_message`` trusts its 4-byte
  count the same way (a format string of that many characters); and on the way *out*,
  Voilà's ``VoilaKernelWebsocketHandler.write_message`` reads every binary message as if
  it were v1. A legacy binary message starts with a 4-byte big-endian count, so those 8
  bytes read as a count of ~10¹⁷ and the server loops on for ever, growing ~45 MB/s, as
  soon as the kernel answers with a buffer (a widget's echo, or any plot image).

:class:`GuardedWebsocketConnection` replaces ``jupyter_server``'s connection class
(``Voila.kernel_websocket_connection_class``, set in ``config/voila.py``). For each
message a page sends its kernel, before anything is decoded:

1. **rate**: a token bucket per kernel (``RAPPORTKIT_WS_RATE`` messages/s, bursts of
   ``RAPPORTKIT_WS_BURST``), shared by every websocket open on that kernel, so opening
   more connections buys no more; a message beyond it is dropped and logged, and a
   connection that keeps flooding (a whole burst of its messages dropped with none let
   through) is disconnected;
2. **size**: more than ``RAPPORTKIT_WS_MAX_BYTES`` closes the connection (code 1009).
   tornado enforces the same cap while reading (``websocket_max_message_size``, also set
   in ``config/voila.py``), so an oversize frame is refused from its header, before its
   payload is read; this check is the second line;
3. **shape**: a binary frame's declared count, offsets and parts must fit inside the
   frame (v1 or legacy layout, whichever the connection speaks), with at most
   :data:`MAX_BUFFERS` buffers, and its header must be a JSON object naming a
   ``msg_type``; a text frame must be such a message in JSON. Anything else closes the
   connection (code 1007) and is logged. Only then does ``jupyter_server`` decode it.

On the way out, ``execute_input`` messages are still withheld (as Voilà does, so cell
sources never reach the page) but recognised with the layout the connection really
speaks, so a legacy client no longer sends the server into that loop.
"""

from __future__ import annotations

import json
import struct
import time
import weakref

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from traitlets import Float, Integer, default

from . import settings

__all__ = ["GuardedWebsocketConnection", "TokenBucket", "kernel_bucket", "frame_problem", "V1_PROTOCOL",
           "MAX_BUFFERS"]

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: Buffers one message may carry (a widget message rarely carries more than a few).
MAX_BUFFERS = 64
CHANNELS = frozenset({b"shell", b"control", b"stdin", b"iopub"})


def _header_problem(raw: bytes | str) -> str | None:
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "its header is not JSON"
    if not isinstance(header, dict) or not isinstance(header.get("msg_type"), str):
        return "its header names no msg_type"
    return None


def _v1_offsets(frame: bytes | memoryview) -> list[int] | str:
    """The offsets of a v1 frame, or what is wrong with them."""
    size = len(frame)
    if size < 8:
        return f"a v1 frame of {size} bytes has no room for its 8-byte count"
    count = int.from_bytes(frame[:8], "little")
    if count < 6:
        return f"declares {count} offsets; a kernel message needs at least 6"
    if count > 6 + MAX_BUFFERS:
        return f"declares {count} offsets; at most {6 + MAX_BUFFERS} are allowed"
    if 8 * (count + 1) > size:
        return f"declares {count} offsets, which do not fit in its {size} bytes"
    offsets = list(struct.unpack_from(f"<{count}Q", frame, 8))
    if offsets[0] < 8 * (count + 1):
        return "its first part starts inside its table of offsets"
    if any(b < a for a, b in zip(offsets, offsets[1:])):
        return "its offsets go backwards"
    if offsets[-1] > size:
        return f"its parts end at byte {offsets[-1]}, beyond its {size} bytes"
    return offsets


def _legacy_offsets(frame: bytes | memoryview) -> list[int] | str:
    """The offsets of a legacy binary message, or what is wrong with them."""
    size = len(frame)
    if size < 4:
        return f"a binary message of {size} bytes has no room for its 4-byte count"
    count = int.from_bytes(frame[:4], "big", signed=True)
    if count < 1 or count > 1 + MAX_BUFFERS:
        return f"declares {count} parts; 1 to {1 + MAX_BUFFERS} are allowed"
    if 4 * (count + 1) > size:
        return f"declares {count} parts, whose offsets do not fit in its {size} bytes"
    offsets = list(struct.unpack_from(f"!{count}I", frame, 4))
    if offsets[0] < 4 * (count + 1):
        return "its first part starts inside its table of offsets"
    if any(b < a for a, b in zip(offsets, offsets[1:])):
        return "its offsets go backwards"
    if offsets[-1] > size:
        return f"its last part starts at byte {offsets[-1]}, beyond its {size} bytes"
    return offsets


def frame_problem(message: bytes | str, subprotocol: str | None) -> str | None:
    """What is wrong with ``message`` from a page, or None if the server may decode it.

    Bounded work whatever the message claims: at most :data:`MAX_BUFFERS` offsets are
    read and one header is parsed."""
    if isinstance(message, str):
        if subprotocol == V1_PROTOCOL:
            return "a text message on the v1 protocol, which is binary only"
        try:
            msg = json.loads(message)
        except ValueError:
            return "a text message that is not JSON"
        if not isinstance(msg, dict) or not isinstance(msg.get("header"), dict) \
                or not isinstance(msg["header"].get("msg_type"), str):
            return "a text message without a header naming its msg_type"
        if not isinstance(msg.get("parent_header", {}), dict):
            return "a text message whose parent_header is not an object"
        return None
    frame = memoryview(message)
    if subprotocol == V1_PROTOCOL:
        offsets = _v1_offsets(frame)
        if isinstance(offsets, str):
            return offsets
        if bytes(frame[offsets[0]:offsets[1]]) not in CHANNELS:
            return "it names no kernel channel"
        return _header_problem(bytes(frame[offsets[1]:offsets[2]]))
    offsets = _legacy_offsets(frame)
    if isinstance(offsets, str):
        return offsets
    end = offsets[1] if len(offsets) > 1 else len(frame)
    try:
        msg = json.loads(bytes(frame[offsets[0]:end]))
    except (ValueError, UnicodeDecodeError):
        return "its first part is not JSON"
    if not isinstance(msg, dict) or not isinstance(msg.get("header"), dict) \
            or not isinstance(msg.get("parent_header"), dict) \
            or not isinstance(msg["header"].get("msg_type"), str):
        return "its first part is not a message with a header and a parent_header"
    return None


def _outgoing_msg_type(message, subprotocol: str | None) -> str | None:
    """The msg_type of a message the server is about to send a page (None if unsure)."""
    try:
        if isinstance(message, dict):
            return (message.get("header") or {}).get("msg_type")
        if isinstance(message, str):
            if "execute_input" not in message:
                return None
            return json.loads(message)["header"]["msg_type"]
        frame = memoryview(message)
        if subprotocol == V1_PROTOCOL:
            offsets = _v1_offsets(frame)
            if isinstance(offsets, str):
                return None
            return json.loads(bytes(frame[offsets[1]:offsets[2]]))["msg_type"]
        offsets = _legacy_offsets(frame)
        if isinstance(offsets, str):
            return None
        end = offsets[1] if len(offsets) > 1 else len(frame)
        return json.loads(bytes(frame[offsets[0]:end]))["header"]["msg_type"]
    except Exception:  # noqa: BLE001 - the server built it; when unsure, send it
        return None


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; :meth:`take` spends one."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate, self.burst, self._clock = float(rate), int(burst), clock
        self._tokens = float(burst)
        self._at = clock()
        #: Refusals since the last token given (a client that keeps flooding).
        self.refused_in_a_row = 0

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False


#: The bucket of each kernel that has a websocket open; an entry goes with the last
#: connection that holds it (every connection keeps a reference to its kernel's bucket).
_KERNEL_BUCKETS: "weakref.WeakValueDictionary[str, TokenBucket]" = weakref.WeakValueDictionary()


def kernel_bucket(kernel_id: str, rate: float, burst: int) -> TokenBucket:
    """The token bucket shared by every websocket on ``kernel_id`` (a new one if none is open)."""
    bucket = _KERNEL_BUCKETS.get(kernel_id)
    if bucket is None:
        bucket = _KERNEL_BUCKETS[kernel_id] = TokenBucket(rate, burst)
    return bucket


def _base_write(handler):
    """The handler's ``write_message`` without Voilà's override (which misreads legacy
    binary messages as v1: see the module docstring)."""
    try:
        from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
    except ImportError:  # pragma: no cover - always there under rapportkit serve
        return handler.write_message
    if isinstance(handler, VoilaKernelWebsocketHandler):
        return super(VoilaKernelWebsocketHandler, handler).write_message
    return handler.write_message


class GuardedWebsocketConnection(ZMQChannelsWebsocketConnection):
    """``jupyter_server``'s kernel websocket connection with bounded input (see the module
    docstring). Limits come from the environment (:mod:`.settings`), because Voilà gives
    connection objects no configuration of their own."""

    max_message_bytes = Integer(help="Largest message a page may send, in bytes.").tag(config=True)
    message_rate = Float(help="Messages per second a kernel takes from its websockets, sustained.").tag(config=True)
    message_burst = Integer(help="Messages a kernel takes at once above the rate.").tag(config=True)

    @default("max_message_bytes")
    def _default_max_bytes(self):
        return int(settings.read("RAPPORTKIT_WS_MAX_BYTES"))

    @default("message_rate")
    def _default_rate(self):
        return float(settings.read("RAPPORTKIT_WS_RATE"))

    @default("message_burst")
    def _default_burst(self):
        return int(settings.read("RAPPORTKIT_WS_BURST"))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._bucket = kernel_bucket(self.kernel_id, self.message_rate, self.message_burst)
        #: This connection's messages refused since it last had one let through.
        self._refused_in_a_row = 0
        self._dropped_total = 0
        self._last_drop_log = float("-inf")
        self._refused = False

    # ---------------------------------------------------------------- in: page → kernel
    def _refuse(self, code: int, reason: str, why: str) -> None:
        if not self._refused:
            self._refused = True
            self.log.warning("Closing the websocket of kernel %s: %s.", self.kernel_id, why)
        handler = self.websocket_handler
        if handler is not None and getattr(handler, "ws_connection", None) is not None:
            handler.close(code, reason)

    def _note_drop(self) -> None:
        self._dropped_total += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 5:
            self._last_drop_log = now
            self.log.warning("Dropping messages from a page to kernel %s: more than %g a second "
                             "(bursts of %d); %d dropped so far.", self.kernel_id, self.message_rate,
                             self.message_burst, self._dropped_total)

    def handle_incoming_message(self, incoming_msg) -> None:  # type: ignore[override]
        if self._refused or not self.channels:
            return  # closing, or already closed: nothing more reaches the kernel
        if not self._bucket.take():
            self._note_drop()
            self._refused_in_a_row += 1
            if self._refused_in_a_row >= self.message_burst:
                self._refuse(1008, "too many messages",
                             f"the page kept sending more than {self.message_rate:g} messages a second "
                             f"({self._dropped_total} dropped)")
            return
        self._refused_in_a_row = 0
        if len(incoming_msg) > self.max_message_bytes:
            self._refuse(1009, "message over the limit", f"a message of {len(incoming_msg)} bytes is over the "
                                                  f"{self.max_message_bytes}-byte limit")
            return
        problem = frame_problem(incoming_msg, self.subprotocol)
        if problem is not None:
            kind = "text" if isinstance(incoming_msg, str) else "binary"
            self._refuse(1007, "malformed message",
                         f"a malformed {kind} message of {len(incoming_msg)} bytes ({problem})")
            return
        super().handle_incoming_message(incoming_msg)

    async def connect(self):  # type: ignore[override]
        self._log_oversize_refusals()
        return await super().connect()

    def _log_oversize_refusals(self) -> None:
        """tornado refuses a frame over ``websocket_max_message_size`` from its header
        (close code 1009) without telling anyone; say so in the server log."""
        ws = getattr(self.websocket_handler, "ws_connection", None)
        if ws is None or getattr(ws, "_rk_logged_close", False):
            return
        close = ws.close
        log, kernel_id = self.log, self.kernel_id

        def logged_close(code=None, reason=None):
            if code == 1009 and reason == "message too big":
                log.warning("Closing the websocket of kernel %s: a message over the %d-byte "
                            "limit (refused from its frame header).", kernel_id,
                            getattr(getattr(ws, "params", None), "max_message_size", -1))
            return close(code, reason)

        ws.close = logged_close
        ws._rk_logged_close = True

    # ---------------------------------------------------------------- out: kernel → page
    @property
    def write_message(self):  # type: ignore[override]
        handler = self.websocket_handler
        write = _base_write(handler)
        subprotocol = self.subprotocol

        def guarded(message, binary: bool = False):
            if _outgoing_msg_type(message, subprotocol) == "execute_input":
                return None  # cell sources never reach the page (as Voilà does)
            return write(message, binary=binary)

        return guarded
