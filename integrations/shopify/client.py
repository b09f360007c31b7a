"""Shopify Admin GraphQL API over HTTP, and nothing else.

Authentication is the shop's access token in ``X-Shopify-Access-Token``.
Shopify limits an app per shop by *query cost*: every response reports the
bucket in ``extensions.cost.throttleStatus``, and a query that does not fit is
answered ``200`` with a ``THROTTLED`` error. Every call here first reserves
its cost in the shop's shared bucket (``integrations.ratelimit``), corrects
the bucket from what Shopify reports, and when throttled anyway waits for the
bucket to refill instead of failing. 429 and 5xx answers are retried with
backoff; ``userErrors`` become a permanent ``ExecutionError`` carrying
Shopify's own message.
"""

from __future__ import annotations

import contextlib
import os
import re
from decimal import Decimal
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.http import QUEUE_PAD as QUEUE_PAD  # re-exported: the pace tests read it here
from integrations.http import PacedClient
from integrations.ratelimit import SharedBucket

API_VERSION = "2026-07"
# SHOPIFY_ADMIN_ENDPOINT points every shop at a stand-in (a staging proxy, a
# local fake in load and chaos runs); {shop} and {version} are filled in.
ENDPOINT = os.environ.get(
    "SHOPIFY_ADMIN_ENDPOINT", "https://{shop}/admin/api/{version}/graphql.json"
)
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")

# Our opening guess at what each operation will be charged; replaced by the
# requestedQueryCost Shopify reports the first time we run it.
ESTIMATED_COST = {
    "DeskOrderByName": 60,
    "DeskOrdersByEmail": 120,
    "DeskOrder": 60,
    "DeskOrderTransactions": 5,
    "DeskRefundCreate": 10,
    "DeskOrderCancel": 10,
    "DeskOrderUpdate": 10,
    "DeskReturnCreate": 10,
    "DeskOrderReturns": 15,
    "DeskDraftOrderCreate": 10,
    "DeskDraftOrdersByTag": 10,
    "DeskStoreCreditCredit": 10,
}
_learned_cost: dict[str, float] = {}

# GraphQL error codes worth another try; everything else (ACCESS_DENIED,
# MAX_COST_EXCEEDED, a bad query) will fail the same way again.
_TRANSIENT_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}

ORDER_FIELDS = """
fragment DeskOrderFields on Order {
  id legacyResourceId name email createdAt updatedAt processedAt cancelledAt tags
  currencyCode displayFinancialStatus displayFulfillmentStatus sourceName
  subtotalPriceSet { shopMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  shippingAddress { name address1 address2 city provinceCode countryCodeV2 zip phone company }
  customer { id legacyResourceId displayName phone }
  lineItems(first: 50) {
    nodes {
      id sku title name quantity
      originalUnitPriceSet { shopMoney { amount } }
      product { productType }
    }
  }
  fulfillments(first: 10) {
    id legacyResourceId status displayStatus createdAt updatedAt
    trackingInfo { company number url }
    fulfillmentLineItems(first: 50) { nodes { id quantity lineItem { id sku } } }
  }
}
"""


class ShopifyClient(PacedClient):
    """One shop; pacing and backoff as every client's (``integrations.http``)."""

    platform = "Shopify"
    queue_message = "{platform} rate limit: queued work for this shop needs {wait:.0f}s more"

    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        endpoint: str | None = None,
        bucket: SharedBucket | None = None,
        **pacing: Any,
    ) -> None:
        self.shop = shop
        self.access_token = access_token
        self.endpoint = endpoint or ENDPOINT.format(shop=shop, version=API_VERSION)
        super().__init__(bucket or SharedBucket(f"shopify:{shop}"), **pacing)

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> ShopifyClient:
        shop = str(credentials.get("shop", "")).strip().lower()
        token = str(credentials.get("access_token", ""))
        if not SHOP_DOMAIN.match(shop) and "endpoint" not in kwargs:
            raise ExecutionError(f"{shop!r} is not a myshopify.com domain", permanent=True)
        if not token:
            raise ExecutionError("The Shopify connection has no access token", permanent=True)
        return cls(shop, token, **kwargs)

    # --- transport -------------------------------------------------------

    def execute(
        self, operation: str, query: str, variables: dict[str, Any], *, retry_unsure: bool = True
    ) -> dict[str, Any]:
        """Run one named operation and return its ``data``.

        ``retry_unsure`` says whether a request whose outcome is unknown (a
        timeout, a 5xx) may be sent again: true for reads and for mutations
        carrying an idempotency key, false for the others, whose callers
        check before creating on the next attempt instead."""
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            # Shopify admits a query on its *requested* cost, so that is what we reserve.
            estimate = _learned_cost.get(operation) or ESTIMATED_COST.get(operation, 50)
            self._wait_for_turn(deadline, estimate)
            try:
                response = self.http.post(
                    self.endpoint,
                    json={"query": query, "variables": variables, "operationName": operation},
                    headers={"X-Shopify-Access-Token": self.access_token},
                )
            except httpx.TransportError as exc:
                self.bucket.give_back(estimate)
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue

            status = response.status_code
            if status == 429 or status >= 500:
                self.bucket.give_back(estimate)
                if status >= 500 and not retry_unsure:
                    raise ExecutionError(f"Shopify answered {status}", permanent=False)
                attempt = self._backoff(
                    attempt, deadline, f"Shopify answered {status}", response.headers
                )
                continue
            if status in (401, 403):
                raise ExecutionError(
                    f"Shopify refused the access token ({status}): reconnect the store",
                    permanent=True,
                )
            if status in (402, 423):
                raise ExecutionError(
                    f"The shop is unavailable ({status}: frozen or locked)", permanent=True
                )
            if status >= 400:
                raise ExecutionError(
                    f"Shopify answered {status}: {response.text[:200]}", permanent=True
                )
            try:
                body = response.json()
            except ValueError:
                self.bucket.give_back(estimate)
                attempt = self._backoff(attempt, deadline, "Shopify sent a body that is not JSON")
                continue

            cost = (body.get("extensions") or {}).get("cost") or {}
            errors = body.get("errors") or []
            if _is_throttled(errors):
                # Nothing was charged; hand our reservation back, believe
                # Shopify's bucket, and queue again for the points.
                self.bucket.give_back(estimate)
                self._observe(operation, cost, charged=None)
                continue
            self._observe(operation, cost, charged=estimate)
            if errors:
                messages = "; ".join(str(e.get("message", e)) for e in errors)
                codes = {(e.get("extensions") or {}).get("code") for e in errors}
                if codes & _TRANSIENT_CODES and retry_unsure:
                    attempt = self._backoff(attempt, deadline, f"Shopify: {messages}")
                    continue
                raise ExecutionError(f"Shopify: {messages}", permanent=not codes & _TRANSIENT_CODES)
            return body.get("data") or {}

    def _observe(self, operation: str, cost: dict[str, Any], *, charged: float | None) -> None:
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            _learned_cost[operation] = float(requested)
        actual = cost.get("actualQueryCost")
        if charged is not None and isinstance(actual, int | float):
            self.bucket.give_back(charged - actual)
        throttle = cost.get("throttleStatus") or {}
        with contextlib.suppress(KeyError, TypeError, ValueError):
            self.bucket.sync(
                float(throttle["currentlyAvailable"]),
                float(throttle["maximumAvailable"]),
                float(throttle["restoreRate"]),
            )

    # --- operations ------------------------------------------------------

    def order_by_name(self, number: str) -> dict[str, Any] | None:
        query = (
            ORDER_FIELDS
            + """
query DeskOrderByName($query: String!) {
  orders(first: 1, query: $query) { nodes { ...DeskOrderFields } }
}"""
        )
        data = self.execute("DeskOrderByName", query, {"query": f"name:{number}"})
        nodes = (data.get("orders") or {}).get("nodes") or []
        return nodes[0] if nodes else None

    def orders_by_email(self, email: str, *, limit: int = 5) -> list[dict[str, Any]]:
        query = (
            ORDER_FIELDS
            + """
query DeskOrdersByEmail($query: String!, $first: Int!) {
  orders(first: $first, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { ...DeskOrderFields }
  }
}"""
        )
        data = self.execute("DeskOrdersByEmail", query, {"query": f"email:{email}", "first": limit})
        return (data.get("orders") or {}).get("nodes") or []

    def order(self, order_gid: str) -> dict[str, Any] | None:
        query = (
            ORDER_FIELDS
            + """
query DeskOrder($id: ID!) { order(id: $id) { ...DeskOrderFields } }"""
        )
        return self.execute("DeskOrder", query, {"id": order_gid}).get("order")

    def order_transactions(self, order_gid: str) -> list[dict[str, Any]]:
        query = """
query DeskOrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions(first: 20) {
      id kind status gateway
      amountSet { shopMoney { amount currencyCode } }
    }
  }
}"""
        order = self.execute("DeskOrderTransactions", query, {"id": order_gid}).get("order")
        if order is None:
            raise ExecutionError(f"Shopify has no order {order_gid}", permanent=True)
        return order.get("transactions") or []

    def refund_create(
        self,
        order_gid: str,
        amount: Decimal,
        *,
        parent_transaction: dict[str, Any] | None,
        idempotency_key: str,
        note: str,
        refund_line_items: list[dict[str, Any]] | None = None,
        shipping: Decimal = Decimal("0"),
        store_credit_currency: str = "",
    ) -> dict[str, Any]:
        """Refund ``amount`` to the payment that took it (``parent_transaction``), or
        as new store credit when ``store_credit_currency`` is given (``refundMethods``;
        Shopify requires the order to have a customer and the shop to use new customer
        accounts). ``refund_line_items`` (``lineItemId``, ``quantity``,
        ``restockType``) and ``shipping`` say what the amount pays for. Shopify's
        ``@idempotent`` key makes a repeated call return the first refund, so
        retrying is safe whatever the refund holds."""
        query = """
mutation DeskRefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund {
      id legacyResourceId createdAt
      totalRefundedSet { shopMoney { amount currencyCode } }
    }
    userErrors { field message }
  }
}"""
        refund: dict[str, Any] = {"orderId": order_gid, "note": note[:255], "notify": False}
        if refund_line_items:
            refund["refundLineItems"] = refund_line_items
        if shipping:
            refund["shipping"] = {"amount": str(shipping)}
        if store_credit_currency:
            refund["refundMethods"] = [
                {
                    "storeCreditRefund": {
                        "amount": {
                            "amount": str(amount),
                            "currencyCode": store_credit_currency.upper(),
                        }
                    }
                }
            ]
        elif parent_transaction is not None:
            refund["transactions"] = [
                {
                    "orderId": order_gid,
                    "parentId": parent_transaction["id"],
                    "gateway": parent_transaction["gateway"],
                    "kind": "REFUND",
                    "amount": str(amount),
                }
            ]
        else:
            raise ExecutionError("A refund must go to a payment or to store credit", permanent=True)
        data = self.execute("DeskRefundCreate", query, {"key": idempotency_key, "input": refund})
        payload = _payload(data, "refundCreate")
        if not payload.get("refund"):
            raise ExecutionError("Shopify created no refund and gave no reason", permanent=False)
        return payload["refund"]

    def order_cancel(self, order_gid: str, *, reason: str, staff_note: str) -> dict[str, Any]:
        # Money never moves here: refunds go through refund_create with their
        # own idempotency key, so a cancel cannot refund twice.
        query = """
mutation DeskOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(
    orderId: $orderId, reason: $reason, restock: true, notifyCustomer: false,
    refundMethod: {originalPaymentMethodsRefund: false}, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
        data = self.execute(
            "DeskOrderCancel",
            query,
            {"orderId": order_gid, "reason": reason, "staffNote": staff_note[:255]},
            retry_unsure=False,
        )
        return _payload(data, "orderCancel", errors_key="orderCancelUserErrors")

    def order_update_shipping_address(
        self, order_gid: str, address: dict[str, str]
    ) -> dict[str, Any]:
        query = """
mutation DeskOrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id shippingAddress { name address1 address2 city provinceCode countryCodeV2 zip } }
    userErrors { field message }
  }
}"""
        # Setting the same address again changes nothing, so retrying is safe.
        data = self.execute(
            "DeskOrderUpdate", query, {"input": {"id": order_gid, "shippingAddress": address}}
        )
        return _payload(data, "orderUpdate")["order"]

    def order_returns(self, order_gid: str) -> list[dict[str, Any]]:
        query = """
query DeskOrderReturns($id: ID!) {
  order(id: $id) {
    returns(first: 20) {
      nodes {
        id name status
        returnLineItems(first: 50) {
          nodes { ... on ReturnLineItem { quantity fulfillmentLineItem { id } } }
        }
      }
    }
  }
}"""
        order = self.execute("DeskOrderReturns", query, {"id": order_gid}).get("order") or {}
        return (order.get("returns") or {}).get("nodes") or []

    def return_create(
        self, order_gid: str, lines: list[dict[str, Any]], *, notify: bool = False
    ) -> dict[str, Any]:
        query = """
mutation DeskReturnCreate($input: ReturnInput!) {
  returnCreate(returnInput: $input) {
    return { id name status }
    userErrors { field message }
  }
}"""
        data = self.execute(
            "DeskReturnCreate",
            query,
            {"input": {"orderId": order_gid, "returnLineItems": lines, "notifyCustomer": notify}},
            retry_unsure=False,
        )
        return _payload(data, "returnCreate")["return"]

    def draft_orders_tagged(self, tag: str) -> list[dict[str, Any]]:
        query = """
query DeskDraftOrdersByTag($query: String!) {
  draftOrders(first: 1, query: $query) { nodes { id name status tags } }
}"""
        data = self.execute("DeskDraftOrdersByTag", query, {"query": f'tag:"{tag}"'})
        return (data.get("draftOrders") or {}).get("nodes") or []

    def draft_order_create(self, draft: dict[str, Any]) -> dict[str, Any]:
        query = """
mutation DeskDraftOrderCreate($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { id name status }
    userErrors { field message }
  }
}"""
        data = self.execute("DeskDraftOrderCreate", query, {"input": draft}, retry_unsure=False)
        return _payload(data, "draftOrderCreate")["draftOrder"]

    def store_credit_account_credit(
        self, owner_gid: str, amount: Decimal, currency: str
    ) -> dict[str, Any]:
        """Add ``amount`` to the owner's store credit account in ``currency`` (Shopify
        opens the account if there is none). The mutation takes no idempotency key,
        so an answer lost on the way is never sent again: the caller records the
        attempt first and leaves an unsure one to a person."""
        query = """
mutation DeskStoreCreditCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id createdAt
      amount { amount currencyCode }
      account { id balance { amount currencyCode } }
    }
    userErrors { field message code }
  }
}"""
        variables = {
            "id": owner_gid,
            "creditInput": {
                "creditAmount": {"amount": str(amount), "currencyCode": currency.upper()},
                "notify": False,
            },
        }
        data = self.execute("DeskStoreCreditCredit", query, variables, retry_unsure=False)
        payload = _payload(data, "storeCreditAccountCredit")
        if not payload.get("storeCreditAccountTransaction"):
            raise ExecutionError("Shopify credited nothing and gave no reason", permanent=True)
        return payload["storeCreditAccountTransaction"]


def _is_throttled(errors: list[dict[str, Any]]) -> bool:
    return any(
        (e.get("extensions") or {}).get("code") == "THROTTLED" or e.get("message") == "Throttled"
        for e in errors
        if isinstance(e, dict)
    )


def _payload(data: dict[str, Any], field: str, *, errors_key: str = "userErrors") -> dict:
    payload = data.get(field)
    if not isinstance(payload, dict):
        raise ExecutionError(f"Shopify answered {field} without a payload", permanent=False)
    user_errors = payload.get(errors_key) or []
    if user_errors:
        raise ExecutionError(
            "Shopify: " + "; ".join(_describe(e) for e in user_errors), permanent=True
        )
    return payload


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(p) for p in error.get("field") or [])
    message = str(error.get("message", "error"))
    return f"{field}: {message}" if field else message
