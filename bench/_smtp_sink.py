"""A local SMTP relay that accepts every message and keeps only a count.

Benchmarks point the worker's SMTP backend at it, so outbound mail costs the
desk what a real relay costs it (a connection, the dialogue, the message),
instead of printing each message to the worker's log."""

from __future__ import annotations

import asyncio
import threading


class SmtpSink:
    def __init__(self) -> None:
        self.received = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="smtp-sink", daemon=True)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await say("220 sink ESMTP")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    await say("250 sink")
                elif verb == b"DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    while (body := await reader.readline()) and body != b".\r\n":
                        pass
                    self.received += 1
                    await say("250 queued")
                elif verb == b"QUIT":
                    await say("221 bye")
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    await say("250 ok")
        finally:
            writer.close()
