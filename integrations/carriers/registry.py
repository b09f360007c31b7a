"""Supported carriers: code -> mapping module and what we can do with it.

Adding a carrier is: create ``integrations/carriers/<code>/mapping.py`` with a
``parse(raw) -> TrackingResult`` function, add a row here, drop fixtures in
``tests/integrations/carriers/fixtures/<code>/``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

from integrations.carriers import payloads
from integrations.carriers.schema import TrackingResult


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str
    formats: tuple[str, ...]
    module: str = ""  # defaults to the code; aliases share another carrier's mapping
    is_aggregator: bool = False
    has_detection: bool = False
    aliases: tuple[str, ...] = field(default=())

    @property
    def capabilities(self) -> dict[str, object]:
        from integrations import providers

        spec = providers.find(self.code)
        if spec is None and self.module:
            # Connected through the carrier whose package it shares (Colissimo: La Poste).
            owner = next(c for c in CARRIERS if (c.module or c.code) == self.module)
            spec = providers.find(owner.code)
        return {
            "parse": True,
            "formats": list(self.formats),
            "detect": self.has_detection,
            "aggregator": self.is_aggregator,
            "client": bool(spec and spec.tracking_client),
            "webhook": bool(spec and spec.webhook),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "aliases": list(self.aliases),
            "capabilities": self.capabilities,
        }


CARRIERS: tuple[Carrier, ...] = (
    Carrier("ups", "UPS", ("json",), has_detection=True),
    Carrier("fedex", "FedEx", ("json", "xml"), has_detection=True),
    Carrier("usps", "USPS", ("json", "xml"), has_detection=True, aliases=("usps_wt",)),
    Carrier("dhl_express", "DHL Express", ("xml", "json"), has_detection=True, aliases=("mydhl",)),
    Carrier("dhl", "DHL (unified tracking API)", ("json",), aliases=("deutschepost",)),
    Carrier(
        "dhl_parcel_de", "DHL Parcel Germany", ("xml",), has_detection=True, aliases=("dpdhl",)
    ),
    Carrier("canadapost", "Canada Post", ("xml",), has_detection=True),
    Carrier("royalmail", "Royal Mail", ("json",), has_detection=True),
    Carrier("australiapost", "Australia Post", ("json",), has_detection=True),
    Carrier("purolator", "Purolator", ("xml",), has_detection=True),
    Carrier("dpd", "DPD", ("xml",), has_detection=True),
    Carrier("dpd_france", "DPD France", ("xml",)),
    Carrier("gls", "GLS", ("json",), has_detection=True),
    Carrier("hermes", "Hermes / Evri", ("json",), has_detection=True, aliases=("evri",)),
    Carrier("laposte", "La Poste", ("json",), has_detection=True),
    Carrier("colissimo", "Colissimo", ("json",), module="laposte", has_detection=True),
    Carrier("chronopost", "Chronopost", ("xml",), has_detection=True),
    Carrier("bpost", "bpost", ("xml",), has_detection=True),
    Carrier("aramex", "Aramex", ("xml",), has_detection=True),
    Carrier("tnt", "TNT", ("xml",), has_detection=True),
    Carrier("amazon_shipping", "Amazon Shipping", ("json",), has_detection=True),
    Carrier("landmark", "Landmark Global", ("xml",), has_detection=True),
    Carrier("asendia", "Asendia", ("json",)),
    Carrier("sendle", "Sendle", ("json",), has_detection=True),
    Carrier("sf_express", "SF Express", ("json",), has_detection=True),
    Carrier("yunexpress", "YunExpress", ("json",), has_detection=True),
    Carrier("yanwen", "Yanwen", ("json",), has_detection=True),
    Carrier("canpar", "Canpar", ("xml",), has_detection=True),
    Carrier("jtexpress", "J&T Express", ("json",), has_detection=True, aliases=("jt",)),
    Carrier("cainiao", "Cainiao", ("json",), has_detection=True),
    Carrier("chinapost", "China Post / EMS", ("json",), has_detection=True, aliases=("ems",)),
    Carrier("4px", "4PX", ("json",), module="fourpx", has_detection=True),
    Carrier("postnl", "PostNL", ("json",), has_detection=True),
    Carrier("spring", "Spring GDS", ("json",)),
    Carrier("seko", "SEKO Omni-Channel", ("json",)),
    Carrier("parcelone", "ParcelOne", ("json",)),
    Carrier("aftership", "AfterShip (aggregator)", ("json",), is_aggregator=True),
    Carrier(
        "17track", "17TRACK (aggregator)", ("json",), module="seventeentrack", is_aggregator=True
    ),
    Carrier("easypost", "EasyPost (aggregator)", ("json",), is_aggregator=True),
    Carrier("shipengine", "ShipEngine (aggregator)", ("json",), is_aggregator=True),
)

_BY_CODE: dict[str, Carrier] = {}
for _carrier in CARRIERS:
    _BY_CODE[_carrier.code] = _carrier
    for _alias in _carrier.aliases:
        _BY_CODE[_alias] = _carrier


class UnknownCarrier(LookupError):
    pass


def get(code: str) -> Carrier:
    try:
        return _BY_CODE[code.strip().lower()]
    except KeyError:
        raise UnknownCarrier(f"unknown carrier code {code!r}") from None


@cache
def mapping_module(code: str) -> ModuleType:
    carrier = get(code)
    return importlib.import_module(
        f"integrations.carriers.{carrier.module or carrier.code}.mapping"
    )


def parse(code: str, raw: str | bytes | dict | list) -> TrackingResult:
    """Parse one raw carrier response into our schema.

    Raises UnknownCarrier for a code we do not support and
    payloads.MalformedPayload for a body that is not the carrier's format
    (not JSON/XML, or a shape we do not recognise); every response the
    carrier can actually send, including not-found and errors, comes back as
    a TrackingResult. A JSON response may be passed already decoded."""
    carrier = get(code)
    module = mapping_module(carrier.code)
    if isinstance(raw, (dict, list)):
        head = ""
    else:
        head = raw[:200].lstrip().lower()
        if isinstance(head, bytes):
            head = head.decode("latin-1")
    if head.startswith(("<!doctype html", "<html")):
        # Gateways answer 401/5xx with an HTML page instead of the API's format.
        return payloads.error(carrier.code, "carrier returned an HTML error page", "html")
    try:
        result = module.parse(raw)
    except payloads.MalformedPayload:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        # A shape the mapping did not expect: report it as malformed, with
        # the carrier named, rather than leaking a traceback to the caller.
        raise payloads.MalformedPayload(
            f"unexpected {carrier.code} payload shape ({type(exc).__name__}: {exc})"
        ) from exc
    result.carrier = carrier.code
    return result
