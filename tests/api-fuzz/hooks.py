"""Schemathesis hooks for scripts/fuzz-api: real data for positive cases.

Data that fits the OpenAPI schema still names SKUs, locations and files the
demo shop does not have, so almost every generated movement, quote or import
would be refused (404, 422) and the API's code past validation never reached.
For cases schemathesis generates as valid (never for negative ones, whose
invalid part must stay invalid), this puts the demo's own SKUs and locations
(given by scripts/fuzz-api in FUZZ_SKUS and FUZZ_LOCATIONS, then read again
as the run archives some) in most of the
places that name one, and a small valid CSV file in most imports.
"""

import json
import os
import random
import urllib.parse
import urllib.request

import schemathesis
from schemathesis import GenerationMode
from schemathesis.generation.meta import TestPhase

SKUS = [s for s in os.environ.get("FUZZ_SKUS", "").split(",") if s]
LOCATIONS = [s for s in os.environ.get("FUZZ_LOCATIONS", "").split(",") if s]
# Deterministic, as the run's --seed is.
RNG = random.Random(42)
# The share of places given real data: all, so that an operation whose valid
# cases are few (the fuzz run fails when all of them are refused) still gets
# some through; the refusals of data a real client would not send are the
# subject of the negative cases and of the API tests.
SHARE = 1.0

URL = os.environ.get("FUZZ_URL", "")
TOKEN = os.environ.get("FUZZ_TOKEN", "")
_live = {
    "calls": 0,
    "locations": LOCATIONS,
    "skus": SKUS,
    "zones": ["TOWN", "COUNTY"],
    "price-lists": [],
    "customers": [],
}
# Records a path parameter `code` names, by the collection they are in.
CODED = ("delivery-zones", "price-lists", "customers")


def _get(path):
    headers = {"authorization": f"Bearer {TOKEN}"} if TOKEN else {}
    request = urllib.request.Request(f"{URL}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["items"]


def _refresh():
    """Every 20 calls, the shop's active products and locations again: the
    owner's run archives some, and what is archived is refused (or, to
    anonymous callers, not there)."""
    _live["calls"] += 1
    if not URL or _live["calls"] % 20 != 1:
        return
    try:
        skus = [p["sku"] for p in _get("/api/v1/products?active=true&limit=100")]
        _live["skus"] = skus or SKUS
        if TOKEN:
            codes = [l["code"] for l in _get("/api/v1/locations?limit=500") if l.get("active")]
            _live["locations"] = codes or LOCATIONS
        _live["zones"] = [z["code"] for z in _get("/api/v1/delivery-zones")] or ["TOWN"]
        if TOKEN:
            _live["price-lists"] = [l["code"] for l in _get("/api/v1/price-lists")]
            _live["customers"] = [c["code"] for c in _get("/api/v1/customers?limit=200")]
    except (OSError, ValueError, KeyError):
        pass


def _codes(collection):
    """The codes the shop has in a collection, read again."""
    key = "zones" if collection == "delivery-zones" else collection
    try:
        codes = [r["code"] for r in _get(f"/api/v1/{collection}")]
    except (OSError, ValueError, KeyError):
        codes = _live[key]
    if collection == "delivery-zones":
        _live["zones"] = codes or ["TOWN"]
        return _live["zones"]
    _live[collection] = codes
    return codes


def _accepted_quotes():
    """The numbers of the shop's accepted quotes, read again."""
    try:
        return [q["number"] for q in _get("/api/v1/quotes?status=accepted&limit=50")]
    except (OSError, ValueError, KeyError):
        return []


def _product(sku):
    """The product as the shop has it now, or None."""
    if not URL or not TOKEN or not sku:
        return None
    request = urllib.request.Request(
        f"{URL}/api/v1/products/{urllib.parse.quote(sku, safe='')}",
        headers={"authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _active_locations():
    return _live["locations"] or ["YARD"]


SKU_KEYS = {"sku"}
LOCATION_KEYS = {"location", "from", "to", "code"}


def _real(key, value):
    if RNG.random() >= SHARE:
        return value
    if key in SKU_KEYS and _live["skus"]:
        return RNG.choice(_live["skus"])
    if key in LOCATION_KEYS and _live["locations"]:
        return RNG.choice(_live["locations"])
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
    sku = RNG.choice(_live["skus"]) if _live["skus"] else "FUZZ-1"
    location = RNG.choice(_active_locations())
    if path.endswith("/products"):
        return f"sku,name,category,unit,price\nFUZZ-{RNG.randrange(1000)},Fuzzed sand,Aggregates/Fuzz,t,38.50\n"
    if path.endswith("/stock"):
        return f"sku,location,quantity\n{sku},{location},{RNG.randrange(50, 500)}\n"
    if path.endswith("/customers"):
        return f"code,name,payment_terms\nFUZZ-C{RNG.randrange(1000)},Fuzzed Ltd,30 days net\n"
    if path.endswith("/price-lists"):
        return f"code,name,category,percent_off\nFUZZ-L{RNG.randrange(1000)},Fuzzed list,Aggregates,{RNG.randrange(1, 30)}\n"
    return f"kind,location,sku,quantity\nreceive,{location},{sku},{RNG.randrange(1, 20)}\n"


def _png():
    """A small PNG of random colour: generated files are never images."""
    import struct
    import zlib

    width, height = 8, 6
    colour = bytes(RNG.randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + colour * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _negative(meta, location):
    """Whether the case's part at `location` ("body", "query"…) is made invalid
    on purpose (no generation data: the examples phase, which is valid)."""
    if meta is None:
        return False
    return any(key == location and component.mode.is_negative for key, component in meta.components.items())


def _photo(case):
    """A real PNG in an upload whose body is meant valid, whatever the rest
    of the case: a generated file is bytes that are never an image, and the
    schema's own example (the examples phase) is no image either."""
    body = case.body if isinstance(case.body, dict) else {}
    alt = body.get("alt")
    case.body = {"file": _png()}
    if isinstance(alt, str) and 0 < len(alt.strip()) <= 200 and alt.isprintable():
        case.body["alt"] = alt


def _labels(case):
    """Labels for products the shop offers or for one of its locations: one
    of the two (a rule between fields the schema does not state)."""
    body = case.body if isinstance(case.body, dict) else {}
    if "skus" in body or "location" not in body:
        count = min(max(len(body.get("skus") or []), 1), 30, len(_live["skus"]) or 1)
        case.body = {"skus": RNG.sample(_live["skus"], count) if _live["skus"] else ["SAND-04"]}
    else:
        case.body = {"location": RNG.choice(_active_locations())}


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Every phase's uploads (the examples phase's cases pass no map_case).
    if case.operation.method.lower() == "post" and case.operation.path.endswith("/images") and not _negative(case.meta, "body"):
        _photo(case)


@schemathesis.hook
def map_case(context, case):
    _refresh()
    meta = case.meta
    if case.operation.method.lower() == "post" and case.operation.path.endswith("/labels") and not _negative(meta, "body"):
        _labels(case)
    if (
        meta is None
        or meta.generation.mode != GenerationMode.POSITIVE
        or any(component.mode.is_negative for component in meta.components.values())
    ):
        return case
    path = case.operation.path
    method = case.operation.method.lower()
    # A new location's code must be new: leave it as generated.
    creating_location = method == "post" and path.endswith(
        ("/locations", "/delivery-zones", "/price-lists", "/customers")
    )
    if case.path_parameters:
        for key in ("sku", "code"):
            if key not in case.path_parameters:
                continue
            collection = next((c for c in CODED if f"/{c}/" in path), None)
            if collection:
                # A record the shop has; in the stateful phase, the one the
                # linked request made (the shop's list may lag behind it).
                if meta.phase.name == TestPhase.STATEFUL:
                    continue
                codes = _live["zones" if collection == "delivery-zones" else collection]
                if str(case.path_parameters[key]).upper() not in codes:
                    codes = _codes(collection)
                if codes and str(case.path_parameters[key]).upper() not in codes:
                    case.path_parameters[key] = RNG.choice(codes)
            else:
                case.path_parameters[key] = _real(key, case.path_parameters[key])
    if method == "post" and path.endswith("/deliveries") and case.path_parameters:
        # A load of an accepted quote, a little of its first line: a number
        # the shop gave out, a line it has, no more than is outstanding.
        accepted = _accepted_quotes()
        if accepted:
            case.path_parameters["number"] = RNG.choice(accepted)
        if isinstance(case.body, dict):
            case.body["lines"] = [{"line": 1, "quantity": "0.001"}]
            case.body.pop("location", None)
        return case
    if case.query:
        for key in ("sku", "location"):
            if isinstance(case.query.get(key), str):
                case.query[key] = _real(key, case.query[key])
        if path.endswith(("/quote/estimate", "/preview")):
            case.query["quantity"] = str(RNG.randrange(1, 40))
            case.query.pop("unit", None)
    if method == "post" and path.endswith("/images"):
        return case
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
    if isinstance(case.body, dict) and method == "put" and path.startswith("/api/v1/quotes/"):
        # A quote changed takes the body of a new one, with the same rules.
        _cross_field("/api/v1/quotes", case.body)
    if isinstance(case.body, dict) and method == "put" and ("/price-lists/" in path or "/customers/" in path):
        # A record replaced keeps its code (the path's).
        case.body.pop("code", None)
        _cross_field(path, case.body)
    if isinstance(case.body, dict) and method == "put" and "/delivery-zones/" in path:
        # A zone replaced keeps its code (the path's).
        case.body.pop("code", None)
        _cross_field(path, case.body)
    if path.startswith("/api/v1/products") and method in ("post", "put", "patch") and isinstance(case.body, dict):
        # A tax class the shop has; a pricing unit, a unit to sell in whole and
        # a minimum order that fit the product's own packs are left to the
        # API tests.
        if "tax_class" in case.body:
            case.body["tax_class"] = RNG.choice(["standard", "reduced", "zero"])
        for key in ("pricing_unit", "sell_in_whole", "min_order"):
            case.body.pop(key, None)
    # A product replaced names its own SKU, if any, and keeps what its
    # ledger and packs tie it to (its unit cannot change once it has
    # movements, packs refer to each other): as a client that read it first.
    if method == "put" and isinstance(case.body, dict) and case.path_parameters and "sku" in case.path_parameters:
        sku = case.path_parameters.get("sku")
        if case.body.get("sku"):
            case.body["sku"] = sku
        current = _product(sku)
        if current:
            for key in ("unit", "packs", "barcode", "price_breaks", "pricing_unit", "sell_in_whole", "min_order"):
                if current.get(key) is not None:
                    case.body[key] = current[key]
                else:
                    case.body.pop(key, None)
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
    if path.endswith("/quotes") and "hold_location" in body and RNG.random() < SHARE:
        # A location the shop has, and only on a quote that holds stock.
        if body.get("hold_stock") is False:
            body.pop("hold_location")
        else:
            body["hold_location"] = RNG.choice(_active_locations())
    if path.endswith("/quotes") and isinstance(body.get("contact"), dict) and RNG.random() < SHARE:
        # A contact needs an e-mail address or a phone number.
        contact = body["contact"]
        if not contact.get("email") and not contact.get("phone"):
            contact["email"] = "sam@example.com"
    if path.endswith("/replay") and RNG.random() < SHARE:
        # `from_seq` or `from`, not both; a seq the change log has reached.
        if "from_seq" in body or "from" not in body:
            body.pop("from", None)
            body["from_seq"] = RNG.randrange(1, 40)
    if path.endswith(("/quotes", "/quote/estimate")) and "customer" in body and RNG.random() < SHARE:
        # Staff price for a customer the shop has (the public may not).
        if TOKEN and _live["customers"]:
            body["customer"] = RNG.choice(_live["customers"])
        else:
            body.pop("customer")
    if "/customers" in path and "price_list" in body and RNG.random() < SHARE:
        # A price list the shop has.
        if _live["price-lists"]:
            body["price_list"] = RNG.choice(_live["price-lists"])
        else:
            body.pop("price_list")
    if "/price-lists" in path and isinstance(body.get("rules"), list) and RNG.random() < SHARE:
        # Each rule: for one SKU, a category or everything; a fixed price
        # (for one SKU) or a percentage off, above 0 and at most 100; its
        # dates in order.
        for rule in body["rules"]:
            if not isinstance(rule, dict):
                continue
            if rule.get("sku") and rule.get("category"):
                del rule["category"]
            if "price" in rule and "percent_off" in rule:
                del rule["price"]
            if "price" in rule and not rule.get("sku"):
                rule.pop("category", None)
                rule["sku"] = RNG.choice(_live["skus"]) if _live["skus"] else "SAND-04"
            if "price" not in rule:
                rule["percent_off"] = str(RNG.randrange(1, 100))
            since, until = rule.get("valid_from"), rule.get("valid_until")
            if isinstance(since, str) and isinstance(until, str) and until < since:
                rule["valid_from"], rule["valid_until"] = until, since
    if path.endswith(("/quotes", "/quote/estimate")) and isinstance(body.get("delivery"), dict) and RNG.random() < SHARE:
        # A postcode the demo delivers to (its zones cover AB and CD), or collection.
        body["delivery"] = RNG.choice(
            [{"postcode": "AB1 2CD"}, {"postcode": "AB9 9ZZ"}, {"postcode": "CD4 1AA"}, {"collection": True}]
        )
    if "/delivery-zones" in path and RNG.random() < SHARE:
        # A tax class the shop has, and postcode prefixes no other zone has.
        if "tax_class" in body:
            body["tax_class"] = RNG.choice(["standard", "reduced", "zero"])
        body["postcodes"] = [f"Q{RNG.randrange(10**6)}" for _ in range(RNG.randrange(1, 4))]
        if isinstance(body.get("vehicle_capacity_t"), str):
            body["vehicle_capacity_t"] = str(RNG.randrange(1, 40))
    if path.endswith("/tokens") and RNG.random() < SHARE:
        # `expires_at` or `expires_in_days`, not both; a time in the future.
        body.pop("expires_at", None)
        # A viewer's token only reads.
        if body.get("role") == "viewer" and isinstance(body.get("scopes"), list):
            body["scopes"] = [s for s in body["scopes"] if s == "read"]
