"""Stripe's request semantics that localstripe lacks, in front of it.

localstripe speaks Stripe's REST API but ignores the Idempotency-Key
header; Stripe promises that a repeated key returns the first answer
(status and body) and that the same key with other parameters is an
error. This proxy adds exactly that, the `customer` filter of the PaymentIntent
list (documented by Stripe, refused by localstripe; served from the intents
created through the proxy), a fix to its fake
Stripe.js (see `rename_element_class`), and an optional latency per call (a
real provider's round trip), and forwards everything else unchanged,
Stripe.js's fake included. A test tool: never shipped, never in front of
real Stripe.

    python3 scripts/stripe/proxy.py --port 8421 --upstream http://127.0.0.1:8420 [--latency-ms 150]
"""

import argparse
import asyncio
import hashlib
import json
import re

from aiohttp import ClientSession, web

HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


def rename_element_class(script):
    """localstripe's fake Stripe.js declares a top-level `class Element`,
    which shadows the DOM's `Element` for every script of the page
    (wasm-bindgen's glue tests `instanceof Element`); real Stripe.js
    declares no such global. The class is renamed, nothing else changes."""
    return re.sub(rb"(?<![\w.])Element\b", b"LocalstripeElement", script)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    # key -> (digest of the request, status, headers, body) or a future
    # while the first request with the key is in flight.
    seen = {}
    # customer id -> ids of the PaymentIntents created for it, oldest first:
    # localstripe can only list all intents, a page at a time.
    intents_by_customer = {}

    def remember(request, status, out):
        if request.method != "POST" or request.path != "/v1/payment_intents" or status != 200:
            return
        try:
            intent = json.loads(out)
        except ValueError:
            return
        if intent.get("customer") and intent.get("id"):
            known = intents_by_customer.setdefault(intent["customer"], [])
            if intent["id"] not in known:
                known.append(intent["id"])

    async def forward(request):
        body = await request.read()
        if args.latency_ms:
            await asyncio.sleep(args.latency_ms / 2000)
        key = request.headers.get("Idempotency-Key")
        if key and request.method == "POST":
            scoped = (request.headers.get("Authorization", ""), key)
            digest = hashlib.sha256(request.path_qs.encode() + b"\0" + body).hexdigest()
            first = seen.get(scoped)
            if isinstance(first, asyncio.Future):
                first = await first
            if first is not None:
                if first[0] != digest:
                    return web.json_response(
                        {"error": {"type": "idempotency_error",
                                   "message": "Keys for idempotent requests can only be used "
                                              "with the same parameters they were first used with."}},
                        status=400)
                return await respond(first[1], first[2], first[3], replayed=True)
            pending = asyncio.get_running_loop().create_future()
            seen[scoped] = pending
            try:
                status, headers, out = await upstream(request, body)
            except Exception:
                del seen[scoped]
                pending.set_result(None)
                raise
            remember(request, status, out)
            seen[scoped] = (digest, status, headers, out)
            pending.set_result(seen[scoped])
            return await respond(status, headers, out)
        if request.method == "GET" and request.path == "/v1/payment_intents" \
                and "customer" in request.query:
            return await respond(*await intents_of_customer(request))
        status, headers, out = await upstream(request, body)
        remember(request, status, out)
        if request.path.startswith("/js.stripe.com/"):
            out = rename_element_class(out)
        return await respond(status, headers, out)

    async def intents_of_customer(request):
        """Every intent of the customer made through this proxy, newest
        first, up to `limit`, each read as it is now."""
        customer = request.query["customer"]
        limit = int(request.query.get("limit", "10"))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        known = intents_by_customer.get(customer, [])
        found = []
        for intent in list(reversed(known))[:limit]:
            async with app["client"].get(args.upstream + "/v1/payment_intents/" + intent,
                                         headers=headers) as r:
                if r.status != 200:
                    return r.status, [("Content-Type", "application/json")], await r.read()
                found.append(await r.json())
        body = {"object": "list", "url": "/v1/payment_intents", "data": found,
                "has_more": len(known) > limit}
        return 200, [("Content-Type", "application/json")], json.dumps(body).encode()

    async def upstream(request, body):
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with app["client"].request(request.method, args.upstream + request.path_qs,
                                         headers=headers, data=body) as r:
            out = await r.read()
            kept = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
            return r.status, kept, out

    async def respond(status, headers, out, replayed=False):
        if args.latency_ms:
            await asyncio.sleep(args.latency_ms / 2000)
        resp = web.Response(status=status, body=out)
        for k, v in headers:
            resp.headers.add(k, v)
        if replayed:
            resp.headers["Idempotent-Replayed"] = "true"
        return resp


    async def start(app):
        app["client"] = ClientSession(auto_decompress=False)

    async def stop(app):
        await app["client"].close()

    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", forward)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
