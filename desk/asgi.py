"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from agents import telemetry  # noqa: E402

telemetry.configure()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from desk.consumers import ContactConsumer, InboxConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/contacts/<uuid:public_id>/", ContactConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything imported so far lives as long as the process: keep it out of the
# collector's way, so a full collection does not pause requests to walk it.
gc.freeze()
