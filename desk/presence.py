"""Who is looking at a contact right now (collision detection).

One Redis hash per contact maps each open page's channel name to the viewer's
name. Entries expire with the hash, so a crashed browser cannot haunt a case
for longer than PRESENCE_TTL."""

from __future__ import annotations

import redis.asyncio as aioredis
from django.conf import settings

PRESENCE_TTL = 600


def _key(contact_id: int) -> str:
    return f"{settings.CACHES['default']['KEY_PREFIX']}:presence:contact:{contact_id}"


def _client() -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.REDIS_URL)


async def join(contact_id: int, channel_name: str, viewer: str) -> list[str]:
    async with _client() as client:
        await client.hset(_key(contact_id), channel_name, viewer)
        await client.expire(_key(contact_id), PRESENCE_TTL)
        return await _names(client, contact_id)


async def leave(contact_id: int, channel_name: str) -> list[str]:
    async with _client() as client:
        await client.hdel(_key(contact_id), channel_name)
        return await _names(client, contact_id)


async def _names(client: aioredis.Redis, contact_id: int) -> list[str]:
    values = await client.hvals(_key(contact_id))
    return sorted({v.decode() for v in values})
