"""Time karrio's own tracking-response parsers on payloads given on stdin.

Run by ``bench/track_parse.py`` in a separate interpreter that has karrio
and its connectors installed (``BENCH_KARRIO_PYTHON``); it imports nothing
of ours. Reads ``{"seconds": s, "samples": {carrier: raw payload}}`` and
prints ``{carrier: {"rate": payloads/s, "events": n, "messages": n}}``.

Each payload goes through what karrio does with a carrier's HTTP reply:
wrap the body in the ``Deserializable`` its proxy builds (JSON or XML
decoding included, as ours includes it), then the mapper's
``parse_tracking_response``."""

from __future__ import annotations

import json
import logging
import sys
import time


def _parsers():
    import karrio.lib as lib
    import karrio.providers.fedex.utils as fedex_utils
    import karrio.sdk as karrio

    # A delivered FedEx shipment makes karrio fetch the proof of delivery
    # over HTTP while parsing; the benchmark times parsing, not the network.
    fedex_utils.get_proof_of_delivery = lambda *args, **kwargs: None

    credentials = {
        "ups": {"client_id": "id", "client_secret": "secret", "account_number": "000000"},
        "fedex": {"api_key": "key", "secret_key": "secret", "account_number": "000000"},
        "usps": {"client_id": "id", "client_secret": "secret"},
        "dhl_express": {"site_id": "site", "password": "password", "account_number": "000000"},
    }

    def gateway(code):
        return karrio.gateway[code].create({"carrier_id": code, **credentials[code]})

    ups, fedex, usps, dhl = (gateway(c) for c in ("ups", "fedex", "usps", "dhl_express"))
    # The deserializers each karrio proxy hands back from get_tracking.
    return {
        "ups": lambda raw: ups.mapper.parse_tracking_response(
            lib.Deserializable([("n", raw)], lambda res: [(n, lib.to_dict(d)) for n, d in res])
        ),
        "fedex": lambda raw: fedex.mapper.parse_tracking_response(
            lib.Deserializable(raw, lib.to_dict)
        ),
        "usps": lambda raw: usps.mapper.parse_tracking_response(
            lib.Deserializable([("n", raw)], lambda res: [(n, lib.to_dict(d)) for n, d in res])
        ),
        "dhl_express": lambda raw: dhl.mapper.parse_tracking_response(
            lib.Deserializable(raw, lib.to_element)
        ),
    }


def main() -> None:
    logging.disable(logging.CRITICAL)
    request = json.load(sys.stdin)
    seconds = float(request["seconds"])
    parsers = _parsers()
    out = {}
    for carrier, raw in request["samples"].items():
        parse = parsers[carrier]
        details, messages = parse(raw)  # warm up, and say what it read
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            parse(raw)
            done += 1
        out[carrier] = {
            "rate": done / (time.perf_counter() - start),
            "events": sum(len(d.events or []) for d in details),
            "messages": len(messages),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
