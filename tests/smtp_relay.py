"""A local SMTP relay that accepts every message and keeps only counts.

Tests and benchmarks point Django's SMTP backend at it, so outbound mail costs
the desk what a real relay costs it (a connection, the dialogue, the message).
``hang_up_after`` makes it drop each session after that many messages, as a
relay closing idle or old connections does; ``refuse`` lists addresses it
answers ``RCPT TO`` with a permanent 550, as for a mailbox that does not exist."""

from __future__ import annotations

import asyncio
import threading


class SmtpRelay:
    def __init__(
        self, *, hang_up_after: int = 0, refuse: set[str] | frozenset = frozenset()
    ) -> None:
        self.received = 0
        self.sessions = 0
        self.refused = 0
        self.hang_up_after = hang_up_after
        self.refuse = {address.lower() for address in refuse}
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="smtp-sink", daemon=True)

    def __enter__(self) -> SmtpRelay:
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
        # Sessions a client still holds open end with the relay.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        self.sessions += 1
        taken = 0
        try:
            await say("220 sink ESMTP")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    await say("250 sink")
                elif verb == b"DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    await reader.readuntil(b"\r\n.\r\n")
                    self.received += 1
                    taken += 1
                    await say("250 queued")
                    if taken == self.hang_up_after:
                        break
                elif verb == b"RCPT" and self._refused(line):
                    self.refused += 1
                    await say("550 5.1.1 Recipient address rejected: mailbox unavailable")
                elif verb == b"QUIT":
                    await say("221 bye")
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    await say("250 ok")
        finally:
            writer.close()

    def _refused(self, line: bytes) -> bool:
        """Whether an ``RCPT TO:<address>`` names an address this relay refuses."""
        address = line.decode(errors="replace").partition("<")[2].partition(">")[0]
        return address.lower() in self.refuse
