"""pytest fixtures and helpers to run a real discord.py client against the fake Discord."""

# Waits take an explicit `timeout=` on purpose: it is the test-facing API (ASYNC109).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import discord
import pytest
import pytest_asyncio

from .server import FakeDiscord, point_discord_at

ClientT = TypeVar("ClientT", bound=discord.Client)

_runners: weakref.WeakKeyDictionary[discord.Client, ClientRunner] = weakref.WeakKeyDictionary()


class _HandlerErrors(logging.Handler):
    """Collects discord.py's 'Ignoring exception in ...' records (errors in event handlers)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Ignoring exception"):
            self.records.append(record)


class ClientRunner:
    """Runs ``client.start(token)`` as a task; see :func:`running_client`."""

    def __init__(
        self,
        client: discord.Client,
        fake: FakeDiscord,
        *,
        token: str | None = None,
        guild_ready_timeout: float | None = 0.05,
        fast_identify: bool = True,
        fail_on_handler_errors: bool = True,
    ) -> None:
        self.client = client
        self.fake = fake
        self.token = token if token is not None else fake.token
        self.task: asyncio.Task[None] | None = None
        self.fail_on_handler_errors = fail_on_handler_errors
        self._exit_consumed = False
        self._errors = _HandlerErrors()
        if guild_ready_timeout is not None:
            # on_ready waits this long after the last GUILD_CREATE (2 s by default).
            client._connection.guild_ready_timeout = guild_ready_timeout
        if fast_identify:
            # The default hook sleeps 5 s before every re-IDENTIFY.
            async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
                return None

            client.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
        _runners[client] = self

    @property
    def handler_errors(self) -> list[logging.LogRecord]:
        """discord.py's "Ignoring exception in ..." records seen so far."""
        return self._errors.records

    async def start(self, *, wait_ready: bool = True, timeout: float = 10.0) -> None:
        logging.getLogger("discord").addHandler(self._errors)
        self.task = asyncio.create_task(self.client.start(self.token), name="fake-discord-client")
        if wait_ready:
            await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float = 10.0) -> None:
        assert self.task is not None
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self.task}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
        if ready not in done:
            ready.cancel()
            if self.task in done:
                self._exit_consumed = True
                exc = self.task.exception()
                if exc is not None:
                    raise exc
                raise AssertionError("the client stopped before on_ready")
            raise AssertionError(f"on_ready not reached within {timeout}s")

    async def wait_exit(self, timeout: float = 10.0) -> BaseException | None:
        """Wait for the client task to end by itself; returns its exception (or None)."""
        assert self.task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            raise AssertionError(f"the client did not stop within {timeout}s") from None
        except BaseException as exc:
            self._exit_consumed = True
            return exc
        self._exit_consumed = True
        return None

    async def stop(self) -> None:
        logging.getLogger("discord").removeHandler(self._errors)
        try:
            if not self.client.is_closed():
                await asyncio.wait_for(self.client.close(), 10)
            if self.task is not None:
                try:
                    await asyncio.wait_for(self.task, 10)
                except asyncio.CancelledError:
                    pass
                except Exception:
                    if not self._exit_consumed:
                        raise
        finally:
            if self.task is not None and not self.task.done():
                self.task.cancel()
                with contextlib.suppress(BaseException):
                    await self.task
        if self.fail_on_handler_errors and self._errors.records:
            lines = [
                r.getMessage() + f": {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
                for r in self._errors.records
            ]
            raise AssertionError("errors in the client's handlers:\n" + "\n".join(lines))


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    fake: FakeDiscord,
    *,
    token: str | None = None,
    wait_ready: bool = True,
    ready_timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.05,
    fast_identify: bool = True,
    fail_on_handler_errors: bool = True,
) -> AsyncIterator[ClientT]:
    """Run ``client`` against ``fake`` (which must already be pointed at) until the block ends.

    Waits for on_ready, then yields the client; on exit closes it and re-raises any exception
    the client task raised (unless :func:`client_exit` already returned it) and, by default,
    fails if an event/command/view handler raised ("Ignoring exception in ...").
    """
    runner = ClientRunner(
        client,
        fake,
        token=token,
        guild_ready_timeout=guild_ready_timeout,
        fast_identify=fast_identify,
        fail_on_handler_errors=fail_on_handler_errors,
    )
    try:
        await runner.start(wait_ready=wait_ready, timeout=ready_timeout)
        yield client
    finally:
        await runner.stop()


async def client_exit(client: discord.Client, timeout: float = 10.0) -> BaseException | None:
    """Wait until a client started by :func:`running_client` stops by itself; its exception."""
    return await _runners[client].wait_exit(timeout)


def runner_of(client: discord.Client) -> ClientRunner:
    return _runners[client]


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord that discord.py points at; fails on unhandled endpoints.

    Set ``fake.expect_unhandled = True`` in a test that provokes unhandled requests on purpose.
    """
    fake = FakeDiscord()
    await fake.start()
    try:
        with point_discord_at(fake):
            yield fake
    finally:
        await fake.stop()
    if fake.unhandled and not fake.expect_unhandled:
        pytest.fail(
            "the bot called endpoints the fake Discord does not implement: "
            + ", ".join(f"{r.method} {r.path}" for r in fake.unhandled),
            pytrace=False,
        )


def default_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


__all__: list[Any] = [
    "ClientRunner",
    "client_exit",
    "default_intents",
    "fake_discord",
    "runner_of",
    "running_client",
]
