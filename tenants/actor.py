"""Who did it: a member, the agent, an API key or the system. Every action takes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenants.models import User


@dataclass(frozen=True)
class Actor:
    type: str
    label: str
    user: User | None = None

    @classmethod
    def member(cls, user: User) -> Actor:
        return cls(type="member", label=user.email, user=user)

    @classmethod
    def agent(cls, name: str = "agent") -> Actor:
        return cls(type="agent", label=name)

    @classmethod
    def api(cls, key_name: str) -> Actor:
        return cls(type="api", label=f"api:{key_name}")

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(type="system", label=name)
