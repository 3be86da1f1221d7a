#!/usr/bin/python3
"""es_peer.py -- a protocol-level Elasticsearch 7.x stand-in for the tests.

No Elasticsearch installs here, so the integration test talks to this: the
REST subset a notification target uses (reference/services.md §3.10), with
ES's response shapes and its failure modes, plus control endpoints to
inspect and break it.

    /usr/bin/python3 es_peer.py [--port P] [--version V] [--auth user:pass]

Defaults come from ES_PORT (19200), ES_PEER_VERSION (7.17.10) and
ES_PEER_AUTH (off).  Control endpoints (no auth, not recorded):
    GET    /__requests   every request so far:
                         [{method, path, client_port, headers, body, status}]
    DELETE /__requests
    GET    /__docs       {index: {id: source text}} in insertion order
    DELETE /__docs       drop every index
    POST   /__fail?status=429&count=1[&path=/prefix]   the next requests fail
    POST   /__reject?id=DOCID[&status=400] | ?match=TEXT   writes of that doc
                         fail (400: mapper_parsing_exception, 429:
                         es_rejected_execution_exception); bulk: only that item
    DELETE /__reject
"""
import argparse
import base64
import json
import os
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

lock = threading.Lock()
state = {
    "requests": [],
    "indices": {},   # name -> {id: source text}
    "fail": [],      # [{status, count, path}]
    "reject_ids": {},  # doc id -> status of the refusal
    "reject_match": [],
}
conf = {"version": "7.17.10", "auth": None}

INDEX_RE = re.compile(r'^[^A-Z\\/*?"<>| ,#:]+$')


def err_body(status, etype, reason, **extra):
    e = {"type": etype, "reason": reason}
    e.update(extra)
    return {"error": {"root_cause": [e], **e}, "status": status}


def bad_index_name(name):
    if not INDEX_RE.match(name) or name[0] in "-_+" or name in (".", ".."):
        return err_body(400, "invalid_index_name_exception",
                        "Invalid index name [%s], must be lowercase" % name, index=name)
    return None


def rejected(doc_id, source):
    """Status of an injected refusal of this document, or 0."""
    if doc_id is not None and doc_id in state["reject_ids"]:
        return state["reject_ids"][doc_id]
    return 400 if any(m in source for m in state["reject_match"]) else 0


def item_error(status):
    if status == 429:
        return {"type": "es_rejected_execution_exception",
                "reason": "rejected execution (queue capacity 200) [injected]"}
    if status >= 500:
        return {"type": "injected_failure", "reason": "injected by es_peer"}
    return {"type": "mapper_parsing_exception", "reason": "failed to parse",
            "caused_by": {"type": "json_parse_exception", "reason": "injected by es_peer"}}


def valid_json_object(text):
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def write_doc(index, doc_id, source):
    """Index one document; returns (status, item result)."""
    bad = bad_index_name(index)
    if bad:
        return 400, {"_index": index, "_id": doc_id, "status": 400, "error": bad["error"]}
    st = rejected(doc_id, source) or (0 if valid_json_object(source) else 400)
    if st:
        return st, {"_index": index, "_id": doc_id, "status": st, "error": item_error(st)}
    docs = state["indices"].setdefault(index, {})
    if doc_id is None:
        doc_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:15]).decode()
    created = doc_id not in docs
    docs[doc_id] = source
    status = 201 if created else 200
    return status, {"_index": index, "_type": "_doc", "_id": doc_id, "_version": 1,
                    "result": "created" if created else "updated",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": 0, "_primary_term": 1, "status": status}


def delete_doc(index, doc_id):
    docs = state["indices"].get(index, {})
    found = doc_id in docs
    docs.pop(doc_id, None)
    status = 200 if found else 404
    return status, {"_index": index, "_type": "_doc", "_id": doc_id, "_version": 1,
                    "result": "deleted" if found else "not_found",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": 0, "_primary_term": 1, "status": status}


def bulk(body, default_index):
    if not body.endswith("\n"):
        return 400, err_body(400, "illegal_argument_exception",
                             "The bulk request must be terminated by a newline [\\n]")
    lines = body.split("\n")[:-1]
    items, errors, i = [], False, 0
    while i < len(lines):
        try:
            action = json.loads(lines[i])
            (op, meta), = action.items()
            if op not in ("index", "create", "delete", "update") or not isinstance(meta, dict):
                raise ValueError(op)
        except ValueError:
            return 400, err_body(400, "illegal_argument_exception",
                                 "Malformed action/metadata line [%d]" % (i + 1))
        i += 1
        index = meta.get("_index", default_index)
        doc_id = meta.get("_id")
        if index is None:
            return 400, err_body(400, "action_request_validation_exception",
                                 "Validation Failed: 1: index is missing;")
        if op == "delete":
            status, res = delete_doc(index, doc_id)
        else:
            if i >= len(lines):
                return 400, err_body(400, "illegal_argument_exception",
                                     "The bulk request must be terminated by a newline [\\n]")
            source = lines[i]
            i += 1
            if op == "create" and doc_id in state["indices"].get(index, {}):
                status, res = 409, {"_index": index, "_id": doc_id, "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": "[%s]: version conflict, document already exists" % doc_id}}
            else:
                status, res = write_doc(index, doc_id, source)
        if status >= 300 and not (op == "delete" and status == 404):
            errors = True
        items.append({op: res})
    return 200, {"took": 1, "errors": errors, "items": items}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "es_peer"

    def log_message(self, *args):
        pass

    def send(self, status, obj=None, head=False, extra=()):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", "0" if head else str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)
        return status

    def send_doc(self, status, res):
        if "error" in res:
            return self.send(status, {"error": res["error"], "status": status})
        return self.send(status, {k: v for k, v in res.items() if k != "status"})

    def do_GET(self): self.handle_any("GET")
    def do_HEAD(self): self.handle_any("HEAD")
    def do_PUT(self): self.handle_any("PUT")
    def do_POST(self): self.handle_any("POST")
    def do_DELETE(self): self.handle_any("DELETE")

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if path.startswith("/__"):
            with lock:
                self.control(method, path, query, raw)
            return
        with lock:
            rec = {"method": method, "path": self.path, "client_port": self.client_address[1],
                   "headers": {k: v for k, v in self.headers.items()},
                   "body": raw.decode("utf-8", "replace"), "status": 0}
            state["requests"].append(rec)
            rec["status"] = self.api(method, path, url.path, query, raw)

    def control(self, method, path, query, raw):
        if path == "/__requests" and method == "GET":
            return self.send(200, state["requests"])
        if path == "/__requests" and method == "DELETE":
            state["requests"].clear()
            return self.send(200, {"acknowledged": True})
        if path == "/__docs" and method == "GET":
            return self.send(200, state["indices"])
        if path == "/__docs" and method == "DELETE":
            state["indices"].clear()
            return self.send(200, {"acknowledged": True})
        if path == "/__fail" and method == "POST":
            state["fail"].append({"status": int(query.get("status", "503")),
                                  "count": int(query.get("count", "1")),
                                  "path": query.get("path", "")})
            return self.send(200, {"acknowledged": True})
        if path == "/__reject" and method == "POST":
            if "id" in query:
                state["reject_ids"][query["id"]] = int(query.get("status", "400"))
            if "match" in query:
                state["reject_match"].append(query["match"])
            return self.send(200, {"acknowledged": True})
        if path == "/__reject" and method == "DELETE":
            state["reject_ids"].clear()
            state["reject_match"].clear()
            return self.send(200, {"acknowledged": True})
        return self.send(404, err_body(404, "not_found", "no control endpoint " + path))

    def injected(self, path, head):
        for f in state["fail"]:
            if f["count"] > 0 and path.startswith(f["path"]):
                f["count"] -= 1
                st = f["status"]
                if st == 429:
                    body = err_body(429, "es_rejected_execution_exception",
                                    "rejected execution (queue capacity 200) [injected]")
                else:
                    body = err_body(st, "injected_failure", "injected by es_peer")
                return self.send(st, body, head)
        return None

    def authorized(self):
        if not conf["auth"]:
            return True
        want = "Basic " + base64.b64encode(conf["auth"].encode()).decode()
        return self.headers.get("Authorization") == want

    def api(self, method, path, rawpath, query, raw):
        head = method == "HEAD"
        if not self.authorized():
            user = ""
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user = base64.b64decode(auth[6:]).decode("utf-8", "replace").split(":")[0]
            reason = ("unable to authenticate user [%s] for REST request [%s]" % (user, rawpath)
                      if user else "missing authentication credentials for REST request [%s]" % rawpath)
            return self.send(401, err_body(401, "security_exception", reason), head,
                             [("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"')])
        st = self.injected(path, head)
        if st:
            return st
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw and ctype not in ("application/json", "application/x-ndjson"):
            return self.send(406, {"error": "Content-Type header [%s] is not supported"
                                   % self.headers.get("Content-Type", ""), "status": 406})
        body = raw.decode("utf-8", "replace")
        parts = [p for p in rawpath.split("/") if p]
        parts = [unquote(p) for p in parts]

        if not parts:
            if method in ("GET", "HEAD"):
                return self.send(200, {
                    "name": "es-peer", "cluster_name": "luagate-test",
                    "cluster_uuid": "luagate-es-peer-0000000000",
                    "version": {"number": conf["version"], "build_flavor": "default",
                                "build_type": "deb", "lucene_version": "8.11.1",
                                "minimum_wire_compatibility_version": "6.8.0",
                                "minimum_index_compatibility_version": "6.0.0-beta1"},
                    "tagline": "You Know, for Search"}, head)
        elif parts[0] == "_bulk" and len(parts) == 1 and method in ("POST", "PUT"):
            return self.send(*bulk(body, None))
        elif parts[0] == "_resolve" and len(parts) == 3 and parts[1] == "index" and method == "GET":
            name = parts[2]
            if name in state["indices"]:
                return self.send(200, {"indices": [{"name": name, "attributes": ["open"]}],
                                       "aliases": [], "data_streams": []})
            return self.send(404, err_body(404, "index_not_found_exception",
                                           "no such index [%s]" % name, index=name))
        elif len(parts) == 1 and not parts[0].startswith("_"):
            index = parts[0]
            if method == "HEAD":
                return self.send(200 if index in state["indices"] else 404, None, True)
            if method == "PUT":
                bad = bad_index_name(index)
                if bad:
                    return self.send(400, bad)
                if index in state["indices"]:
                    return self.send(400, err_body(
                        400, "resource_already_exists_exception",
                        "index [%s/luagate] already exists" % index, index=index))
                state["indices"][index] = {}
                return self.send(200, {"acknowledged": True, "shards_acknowledged": True,
                                       "index": index})
            if method == "GET" and index in state["indices"]:
                return self.send(200, {index: {"aliases": {}, "mappings": {}, "settings": {}}})
        elif len(parts) == 2 and parts[1] == "_bulk" and method in ("POST", "PUT"):
            return self.send(*bulk(body, parts[0]))
        elif len(parts) == 2 and parts[1] in ("_refresh", "_flush") and method in ("POST", "GET"):
            return self.send(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        elif len(parts) == 2 and parts[1] == "_doc" and method == "POST":
            st, res = write_doc(parts[0], None, body)
            return self.send_doc(st, res)
        elif len(parts) == 3 and parts[1] in ("_doc", "_create"):
            index, doc_id = parts[0], parts[2]
            docs = state["indices"].get(index, {})
            if method in ("PUT", "POST"):
                if (parts[1] == "_create" or query.get("op_type") == "create") and doc_id in docs:
                    return self.send(409, err_body(
                        409, "version_conflict_engine_exception",
                        "[%s]: version conflict, document already exists" % doc_id))
                st, res = write_doc(index, doc_id, body)
                return self.send_doc(st, res)
            if method in ("GET", "HEAD") and parts[1] == "_doc":
                if doc_id in docs:
                    return self.send(200, {"_index": index, "_type": "_doc", "_id": doc_id,
                                           "_version": 1, "found": True,
                                           "_source": json.loads(docs[doc_id])}, head)
                return self.send(404, {"_index": index, "_type": "_doc", "_id": doc_id,
                                       "found": False}, head)
            if method == "DELETE" and parts[1] == "_doc":
                return self.send_doc(*delete_doc(index, doc_id))
        return self.send(405 if parts else 400, err_body(
            400, "illegal_argument_exception", "es_peer: unsupported %s %s" % (method, rawpath)),
            head)


def main():
    ap = argparse.ArgumentParser(description="Elasticsearch 7.x test peer")
    ap.add_argument("--port", type=int, default=int(os.environ.get("ES_PORT", "19200")))
    ap.add_argument("--version", default=os.environ.get("ES_PEER_VERSION", "7.17.10"))
    ap.add_argument("--auth", default=os.environ.get("ES_PEER_AUTH", ""),
                    help="user:pass for basic auth (empty: off)")
    a = ap.parse_args()
    conf["version"] = a.version
    conf["auth"] = a.auth or None
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print("es_peer listening on 127.0.0.1:%d (version %s)" % (a.port, a.version), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
