"""Schemathesis hooks for scripts/fuzz-api: real data for positive cases.

Data that fits the OpenAPI schema still names SKUs, locations and files the
demo shop does not have, so almost every generated movement, quote or import
would be refused (404, 422) and the API's code past validation never reached.
For cases schemathesis generates as valid (never for negative ones, whose
invalid part must stay invalid), this puts the demo's own SKUs and locations
(given by scripts/fuzz-api in FUZZ_SKUS and FUZZ_LOCATIONS) in most of the
places that name one, and a small valid CSV file in most imports.
"""

import json
import os
import random
import urllib.request

import schemathesis
from schemathesis import GenerationMode

SKUS = [s for s in os.environ.get("FUZZ_SKUS", "").split(",") if s]
LOCATIONS = [s for s in os.environ.get("FUZZ_LOCATIONS", "").split(",") if s]
# Deterministic, as the run's --seed is.
RNG = random.Random(42)
# The share of places given real data: the rest keep what was generated.
SHARE = 0.9

URL = os.environ.get("FUZZ_URL", "")
TOKEN = os.environ.get("FUZZ_TOKEN", "")
_active = {"calls": 0, "codes": LOCATIONS}


def _active_locations():
    """The shop's active locations, read again every 20 calls: the run itself
    archives some (a movement at an archived location is refused)."""
    _active["calls"] += 1
    if URL and TOKEN and _active["calls"] % 20 == 1:
        request = urllib.request.Request(
            f"{URL}/api/v1/locations?limit=500", headers={"authorization": f"Bearer {TOKEN}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                items = json.load(response)["items"]
            _active["codes"] = [l["code"] for l in items if l.get("active")] or LOCATIONS
        except OSError:
            pass
    return _active["codes"] or ["YARD"]


SKU_KEYS = {"sku"}
LOCATION_KEYS = {"location", "from", "to", "code"}


def _real(key, value):
    if RNG.random() >= SHARE:
        return value
    if key in SKU_KEYS and SKUS:
        return RNG.choice(SKUS)
    if key in LOCATION_KEYS and LOCATIONS:
        return RNG.choice(LOCATIONS)
    return value


def _walk(value, skip_codes):
    """Real SKUs and locations everywhere in a JSON body."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reorder_points" and isinstance(item, dict) and LOCATIONS and RNG.random() < SHARE:
                # Keyed by location code.
                out[key] = {RNG.choice(LOCATIONS): level for level in item.values()}
                continue
            if isinstance(item, str) and (key in SKU_KEYS or (key in LOCATION_KEYS and not skip_codes)):
                out[key] = _real(key, item)
            else:
                out[key] = _walk(item, skip_codes)
        return out
    if isinstance(value, list):
        return [_walk(item, skip_codes) for item in value]
    return value


def _csv(path):
    sku = RNG.choice(SKUS) if SKUS else "FUZZ-1"
    location = RNG.choice(LOCATIONS) if LOCATIONS else "YARD"
    if path.endswith("/products"):
        return f"sku,name,category,unit,price\nFUZZ-{RNG.randrange(1000)},Fuzzed sand,Aggregates/Fuzz,t,38.50\n"
    if path.endswith("/stock"):
        return f"sku,location,quantity\n{sku},{location},{RNG.randrange(50, 500)}\n"
    return f"kind,location,sku,quantity\nreceive,{location},{sku},{RNG.randrange(1, 20)}\n"


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if (
        meta is None
        or meta.generation.mode != GenerationMode.POSITIVE
        or any(component.mode.is_negative for component in meta.components.values())
    ):
        return case
    path = case.operation.path
    method = case.operation.method.lower()
    # A new location's code must be new: leave it as generated.
    creating_location = method == "post" and path.endswith("/locations")
    if case.path_parameters:
        for key in ("sku", "code"):
            if key in case.path_parameters:
                case.path_parameters[key] = _real(key, case.path_parameters[key])
    if case.query:
        for key in ("sku", "location"):
            if isinstance(case.query.get(key), str):
                case.query[key] = _real(key, case.query[key])
    if "/imports/" in path:
        # A generated file is bytes that are never CSV.
        if isinstance(case.body, dict):
            case.body = dict(case.body, file=_csv(path).encode())
        return case
    # A product created with a SKU the shop has is a 409: keep those new.
    creating_product = method == "post" and path.endswith("/products")
    if isinstance(case.body, (dict, list)) and not creating_product:
        case.body = _walk(case.body, creating_location)
    if isinstance(case.body, dict) and method == "post":
        _cross_field(path, case.body)
    # A product replaced names its own SKU, if any.
    if method == "put" and isinstance(case.body, dict) and case.body.get("sku") and case.path_parameters:
        case.body["sku"] = case.path_parameters.get("sku", case.body["sku"])
    # A key used before with another body is refused (422): a client makes a
    # new key for each new request.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{RNG.getrandbits(64):016x}"
    # An `If-Match` a client sends is an ETag it read; a generated one never
    # matches (412). Most writes go without.
    if case.headers and "If-Match" in case.headers:
        del case.headers["If-Match"]
    return case


def _cross_field(path, body):
    """Rules between fields the schema does not state, kept as a client would."""
    if path.endswith("/movements") and RNG.random() < SHARE:
        # `transfer` has `from` and `to`; every other kind one `location`,
        # an active one.
        active = _active_locations()
        if body.get("kind") == "transfer":
            body.pop("location", None)
            body["from"], body["to"] = RNG.sample(active, 2) if len(active) > 1 else (active[0], active[0])
        else:
            body.pop("from", None)
            body.pop("to", None)
            body["location"] = RNG.choice(active)
        # Each line says how much (`counted` only for `adjust`).
        for line in body.get("lines") or []:
            if isinstance(line, dict):
                if body.get("kind") != "adjust":
                    line.pop("counted", None)
                if line.get("quantity") is None and line.get("counted") is None:
                    line["quantity"] = "1"
                # The product's own unit: a generated one seldom converts.
                line.pop("unit", None)
    if path.endswith(("/quotes", "/quote/estimate")) and RNG.random() < SHARE:
        # Amounts people ask for, in the product's own units: a generated
        # 0.000004 t is below what can be charged, and a generated unit is
        # seldom one the product converts to.
        for line in body.get("lines") or []:
            if isinstance(line, dict):
                line["quantity"] = str(RNG.randrange(1, 40))
                line.pop("unit", None)
    if path.endswith("/quotes") and isinstance(body.get("contact"), dict) and RNG.random() < SHARE:
        # A contact needs an e-mail address or a phone number.
        contact = body["contact"]
        if not contact.get("email") and not contact.get("phone"):
            contact["email"] = "sam@example.com"
    if path.endswith("/tokens") and RNG.random() < SHARE:
        # `expires_at` or `expires_in_days`, not both; a time in the future.
        body.pop("expires_at", None)
        # A viewer's token only reads.
        if body.get("role") == "viewer" and isinstance(body.get("scopes"), list):
            body["scopes"] = [s for s in body["scopes"] if s == "read"]
