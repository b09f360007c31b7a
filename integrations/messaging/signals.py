"""What the outbox tells the apps above it, which it may not import."""

from __future__ import annotations

from django.dispatch import Signal

# An outbox row's state changed (sent, delivered, failed, skipped, queued again),
# sent once that change is committed. Keyword argument: ``message``, the row as saved.
# Receivers must be cheap: the sender is often the task that sent the message.
delivery_changed = Signal()
