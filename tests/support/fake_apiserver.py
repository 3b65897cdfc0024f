#!/usr/bin/env python3
"""A small stand-in for kube-apiserver, for testing kai's REST backend (tests/e2e/rest_test.cpp).

It answers the way the real server does in the exchanges recorded in
../shared/reference/k8s-api.md (paths, Status errors, pagination with continue tokens, 410 for
an expired token, 429 with Retry-After, 401 without a valid token, merge patch, delete, watch with
an ERROR event of code 410 for a resourceVersion it no longer keeps), keeps
objects in memory, and writes one JSON line per request to --log so tests can check what kai
sent. Loopback only.

  fake_apiserver.py --port-file F [--tls CERT KEY] [--token T ...] [--log L] [--page-max N]
                    [--throttle N] [--expire-continue-once] [--expire-watch-once]
"""
import argparse
import json
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STATE = {"objects": {}, "rv": 100, "throttled": 0, "expired_once": False, "watch_expired_once": False,
         "events": []}  # events: (rv, (group, plural), ns, type, object)
LOCK = threading.RLock()
ARGS = None


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return code, body


def parse_path(path):
    """-> (group, version, namespace, plural, name, sub) or None."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
    if not rest:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return group, version, ns, plural, name, sub


def qualified(group, plural):
    return plural if not group else plural + "." + group


def label_match(obj, selector):
    if not selector:
        return True
    labels = obj.get("metadata", {}).get("labels", {}) or {}
    for term in selector.split(","):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            k = k.rstrip("=")
            if labels.get(k) != v.lstrip("="):
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_match(obj, selector):
    if not selector:
        return True
    md = obj.get("metadata", {})
    for term in selector.split(","):
        neg = "!=" in term
        k, v = term.split("!=" if neg else "=", 1)
        v = v.lstrip("=")
        have = {"metadata.name": md.get("name"), "metadata.namespace": md.get("namespace")}.get(k)
        if k not in ("metadata.name", "metadata.namespace"):
            return None
        if (have == v) == neg:
            return False
    return True


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self, code):
        if not ARGS.log:
            return
        entry = {"method": self.command, "path": self.path, "code": code,
                 "authorization": self.headers.get("Authorization", ""),
                 "contentType": self.headers.get("Content-Type", ""),
                 "accept": self.headers.get("Accept", "")}
        with LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def reply(self, code, body, headers=None, text=False):
        data = body.encode() if text else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.record(code)

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        raw = self.body()
        if ARGS.token:
            auth = self.headers.get("Authorization", "")
            if auth not in ["Bearer " + t for t in ARGS.token]:
                return self.reply(*status(401, "Unauthorized", "Unauthorized"))
        with LOCK:
            if STATE["throttled"] < ARGS.throttle:
                STATE["throttled"] += 1
                code, st = status(429, "TooManyRequests", "Too many requests, please try again later.",
                                  {"retryAfterSeconds": 1})
                return self.reply(code, st, {"Retry-After": "1"})
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/version":
            return self.reply(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
        p = parse_path(url.path)
        if not p:
            return self.reply(*status(404, "NotFound", "the server could not find the requested resource"))
        group, version, ns, plural, name, sub = p
        coll = (group, plural)
        if self.command == "GET" and name is None and q.get("watch") in ("1", "true"):
            return self.watch(q, ns, coll)
        with LOCK:
            return self.dispatch(raw, q, group, version, ns, plural, name, sub, coll)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, q, ns, coll):
        """Streams the collection's events after resourceVersion, one JSON line each, until
        timeoutSeconds; an old resourceVersion (the first time with --expire-watch-once) gets the
        ERROR event kube-apiserver sends."""
        since = int(q.get("resourceVersion") or 0)
        deadline = time.time() + float(q.get("timeoutSeconds") or 5)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.record(200)
        with LOCK:
            expire = ARGS.expire_watch_once and not STATE["watch_expired_once"] and since > 0
            if expire:
                STATE["watch_expired_once"] = True
        if expire:
            st = status(410, "Expired", "too old resource version: %d (%d)" % (since, STATE["rv"]))[1]
            self.chunk((json.dumps({"type": "ERROR", "object": st}) + "\n").encode())
            self.chunk(b"")
            return
        try:
            while time.time() < deadline:
                with LOCK:
                    out = [e for e in STATE["events"] if e[0] > since and e[1] == coll and (ns is None or e[2] == ns)]
                    if STATE["events"]:
                        since = max(since, STATE["events"][-1][0])
                for _, _, _, typ, obj in out:
                    self.chunk((json.dumps({"type": typ, "object": obj}) + "\n").encode())
                time.sleep(0.05)
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def event(self, coll, ns, typ, obj):
        STATE["events"].append((STATE["rv"], coll, ns, typ, json.loads(json.dumps(obj))))

    def dispatch(self, raw, q, group, version, ns, plural, name, sub, coll):
        objs = STATE["objects"].setdefault(coll, {})
        qn = qualified(group, plural)
        details = {"name": name or "", "group": group, "kind": plural}
        if sub == "log" and self.command == "GET":
            obj = objs.get((ns, name))
            if not obj:
                return self.reply(*status(404, "NotFound", '%s "%s" not found' % (qn, name), details))
            return self.reply(200, obj.get("metadata", {}).get("annotations", {}).get("fake/log", ""), text=True)
        if self.command == "GET" and name is None:
            items = [o for (ons, _), o in sorted(objs.items()) if ns is None or ons == ns]
            items = [o for o in items if label_match(o, q.get("labelSelector"))]
            fm = [field_match(o, q.get("fieldSelector")) for o in items]
            if None in fm:
                return self.reply(*status(400, "BadRequest", "field label not supported: " + q["fieldSelector"].split("=")[0]))
            items = [o for o, ok in zip(items, fm) if ok]
            start = 0
            if q.get("continue"):
                if ARGS.expire_continue_once and not STATE["expired_once"]:
                    STATE["expired_once"] = True
                    return self.reply(*status(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."))
                start = int(q["continue"])
            limit = int(q.get("limit", "0") or 0)
            if ARGS.page_max:
                limit = min(limit, ARGS.page_max) if limit else ARGS.page_max
            page = items[start:start + limit] if limit else items[start:]
            md = {"resourceVersion": str(STATE["rv"])}
            if limit and start + limit < len(items):
                md["continue"] = str(start + limit)
                md["remainingItemCount"] = len(items) - start - limit
            kind = (page[0]["kind"] if page else plural.capitalize()) + "List"
            return self.reply(200, {"kind": kind, "apiVersion": (group + "/" if group else "") + version,
                                    "metadata": md, "items": page})
        if self.command == "GET":
            obj = objs.get((ns, name))
            if not obj:
                return self.reply(*status(404, "NotFound", '%s "%s" not found' % (qn, name), details))
            return self.reply(200, obj)
        try:
            body = json.loads(raw) if raw else None
        except ValueError as e:
            return self.reply(*status(400, "BadRequest", "the body of the request was in an unknown format: " + str(e)))
        STATE["rv"] += 1
        if self.command == "POST":
            md = body.setdefault("metadata", {})
            if md.get("namespace") and ns and md["namespace"] != ns:
                return self.reply(*status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"))
            n = md.get("name")
            if not n and md.get("generateName"):
                import random
                n = md["generateName"] + "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
                md["name"] = n
            if (ns, n) in objs:
                return self.reply(*status(409, "AlreadyExists", '%s "%s" already exists' % (qn, n),
                                          dict(details, name=n)))
            if body.get("spec", {}).get("minAvailable", 0) == -1:
                return self.reply(*status(422, "Invalid", '%s.%s "%s" is invalid: spec.minAvailable: Invalid value: -1: must be greater than or equal to 0' % (body.get("kind"), group, n),
                                          {"name": n, "group": group, "kind": body.get("kind"),
                                           "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0", "field": "spec.minAvailable"}]}))
            if ns:
                md["namespace"] = ns
            md["uid"] = str(uuid.uuid4())
            md["resourceVersion"] = str(STATE["rv"])
            md["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            md["generation"] = 1
            objs[(ns, n)] = body
            self.event(coll, ns, "ADDED", body)
            return self.reply(201, body)
        obj = objs.get((ns, name))
        if not obj:
            return self.reply(*status(404, "NotFound", '%s "%s" not found' % (qn, name), details))
        if self.command == "PUT":
            rv = body.get("metadata", {}).get("resourceVersion")
            if rv and rv != obj["metadata"]["resourceVersion"]:
                return self.reply(*status(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the latest version and try again' % (qn, name), details))
            for k in ("uid", "creationTimestamp", "generation"):
                body["metadata"][k] = obj["metadata"][k]
            body["metadata"]["resourceVersion"] = str(STATE["rv"])
            objs[(ns, name)] = body
            self.event(coll, ns, "MODIFIED", body)
            return self.reply(200, body)
        if self.command == "PATCH":
            if self.headers.get("Content-Type") != "application/merge-patch+json":
                return self.reply(*status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"))
            new = merge_patch(obj, body)
            new["metadata"]["resourceVersion"] = str(STATE["rv"])
            objs[(ns, name)] = new
            self.event(coll, ns, "MODIFIED", new)
            return self.reply(200, new)
        if self.command == "DELETE":
            del objs[(ns, name)]
            self.event(coll, ns, "DELETED", obj)
            return self.reply(200, obj)
        return self.reply(*status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--page-max", type=int, default=0)
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--expire-continue-once", action="store_true")
    ap.add_argument("--expire-watch-once", action="store_true")
    ap.add_argument("--lifetime", type=float, default=120)
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    threading.Timer(ARGS.lifetime, srv.shutdown).start()  # never outlives a stuck test
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
