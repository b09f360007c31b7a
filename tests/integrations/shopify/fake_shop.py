"""A local fake of Shopify's Admin GraphQL endpoint, enough to refund orders.

It enforces the cost-based leaky bucket the way Shopify documents it: a
query runs only when the bucket holds its requested cost, otherwise the
answer is ``200`` with a ``THROTTLED`` error and nothing is charged; after
running, the difference between requested and actual cost is given back;
the bucket refills continuously at the restore rate. It honours
``@idempotent(key:)`` on refundCreate, and can lose answers on purpose
(the refund is made, the client sees a 502) to prove retries land once.
"""

from __future__ import annotations

import json
import random
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COSTS = {  # operation: (requested, actual)
    "DeskOrderTransactions": (3, 3),
    "DeskRefundCreate": (10, 10),
}


class FakeShop:
    def __init__(
        self,
        *,
        capacity: float = 1000.0,
        restore_rate: float = 50.0,
        lose_answer_rate: float = 0.0,
        unavailable_rate: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate
        self.level = capacity
        self.stamp = time.monotonic()
        self.lose_answer_rate = lose_answer_rate
        self.unavailable_rate = unavailable_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.paid: dict[str, Decimal] = {}  # order gid → captured amount
        self.refunds: dict[str, dict[str, Any]] = {}  # idempotency key → refund
        self.refunded: dict[str, Decimal] = {}
        self.throttled = 0
        self.lost_answers = 0
        self.unavailable = 0
        self.points_spent = 0.0
        self.requests = 0
        self.server: ThreadingHTTPServer | None = None

    # --- bucket ------------------------------------------------------------

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.restore_rate)
        self.stamp = now

    def _cost(self, requested: float, actual: float | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.capacity,
                "currentlyAvailable": round(self.level, 1),
                "restoreRate": self.restore_rate,
            },
        }

    # --- HTTP --------------------------------------------------------------

    def handle(self, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        if token != "shpat_fake":
            return 401, {"errors": "[API] Invalid API key or access token"}
        operation = body.get("operationName", "")
        requested, actual = COSTS.get(operation, (50, 50))
        with self.lock:
            self.requests += 1
            if self.random.random() < self.unavailable_rate:
                self.unavailable += 1
                return 503, {"errors": "Service unavailable"}
            self._refill()
            if self.level < requested:
                self.throttled += 1
                return 200, {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": self._cost(requested, None)},
                }
            self.level -= requested
            self.level += requested - actual
            self.points_spent += actual
            data = self._run(operation, body.get("variables") or {})
            answer = {"data": data, "extensions": {"cost": self._cost(requested, actual)}}
            if operation == "DeskRefundCreate" and self.random.random() < self.lose_answer_rate:
                # The refund is made but the answer never reaches the caller.
                self.lost_answers += 1
                return 502, {"errors": "Bad gateway"}
            return 200, answer

    def _run(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        if operation == "DeskOrderTransactions":
            order_gid = variables["id"]
            if order_gid not in self.paid:
                return {"order": None}
            legacy = order_gid.rsplit("/", 1)[-1]
            return {
                "order": {
                    "id": order_gid,
                    "transactions": [
                        {
                            "id": f"gid://shopify/OrderTransaction/{legacy}",
                            "kind": "SALE",
                            "status": "SUCCESS",
                            "gateway": "bogus",
                            "amountSet": {
                                "shopMoney": {
                                    "amount": str(self.paid[order_gid]),
                                    "currencyCode": "USD",
                                }
                            },
                        }
                    ],
                }
            }
        if operation == "DeskRefundCreate":
            key = variables["key"]
            if key in self.refunds:
                return {"refundCreate": {"refund": self.refunds[key], "userErrors": []}}
            refund_input = variables["input"]
            order_gid = refund_input["orderId"]
            amount = sum(Decimal(t["amount"]) for t in refund_input.get("transactions") or [])
            already = self.refunded.get(order_gid, Decimal("0"))
            if amount + already > self.paid.get(order_gid, Decimal("0")):
                return {
                    "refundCreate": {
                        "refund": None,
                        "userErrors": [
                            {
                                "field": ["transactions", "0", "amount"],
                                "message": "Refund amount exceeds the refundable amount",
                            }
                        ],
                    }
                }
            self.refunded[order_gid] = already + amount
            refund = {
                "id": f"gid://shopify/Refund/{900000 + len(self.refunds)}",
                "legacyResourceId": str(900000 + len(self.refunds)),
                "createdAt": "2026-07-01T12:00:00Z",
                "totalRefundedSet": {"shopMoney": {"amount": str(amount), "currencyCode": "USD"}},
                "orderId": order_gid,
            }
            self.refunds[key] = refund
            return {"refundCreate": {"refund": refund, "userErrors": []}}
        return {}

    def start(self) -> str:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = shop.handle(body, self.headers.get("X-Shopify-Access-Token", ""))
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
