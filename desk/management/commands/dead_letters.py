"""List the tasks set aside in the dead-letter queue, or send one again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from desk import dead_letters
from desk.models import DeadLetter


class Command(BaseCommand):
    help = "List unresolved dead letters (tasks set aside), or --send-again ID."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--send-again", type=int, metavar="ID")
        parser.add_argument("--all", action="store_true", help="Include resolved ones.")

    def handle(self, *args, send_again: int | None = None, all: bool = False, **options) -> None:
        if send_again is not None:
            if not DeadLetter.objects.filter(pk=send_again).exists():
                raise CommandError(f"No dead letter {send_again}")
            task_id = dead_letters.send_again(send_again)
            self.stdout.write(f"Sent again as task {task_id}")
            return
        letters = DeadLetter.objects.all()
        if not all:
            letters = letters.filter(resolved_at__isnull=True)
        for letter in letters[:200]:
            state = "resolved" if letter.resolved_at else "open"
            self.stdout.write(
                f"{letter.pk}\t{letter.created_at:%Y-%m-%d %H:%M:%S}\t{state}\t"
                f"{letter.task_name}\t{letter.kwargs or letter.args}\t{letter.reason}"
            )
