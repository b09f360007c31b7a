"""What the policy commands share: ``--version`` means a policy version, not Django's."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class PolicyCommand(BaseCommand):
    def add_base_argument(self, parser, *args, **kwargs):
        # Django offers --version to print its own version; these commands need the name for the
        # policy version, as the documented interface says.
        if "--version" in args:
            return
        super().add_base_argument(parser, *args, **kwargs)
