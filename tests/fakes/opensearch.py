"""A small in-process HTTP server that answers the OpenSearch REST calls Bookwell makes.

The real ``opensearch-py`` client talks to it over HTTP (``FakeOpenSearch().url``), so the
gateway's requests, the bulk NDJSON framing and the error handling are the real ones.

What it does check, like a real server (stricter where noted):
- index creation (400 ``resource_already_exists_exception`` on a second create),
  deletion, ``HEAD``, ``_refresh``, ``GET /_alias/<name>`` and atomic ``POST /_aliases``
  (``add``, ``remove``, ``remove_index``; one failing action fails them all);
- ``_bulk`` framing and per-item answers: ``index``/``create`` need a source line,
  ``delete`` of a missing document answers 404 ``not_found``; writes through an alias go to
  its single index, an alias on several indexes is refused;
- documents against the index's mapping: ``"dynamic": "strict"`` refuses unknown fields;
  ``integer``/``long`` need ints, ``keyword``/``text`` strings, ``boolean`` bools, ``date``
  ISO-8601 strings, ``geo_point`` a ``{"lat", "lon"}`` object in range. Stricter: no
  coercion of "12" to 12, and writes never auto-create an index (404 instead);
- search: ``bool`` with ``filter``/``must``, ``term``, ``terms``, ``range``, ``exists``,
  ``match_all``; ``sort`` on plain fields (missing values last), ``from``/``size``,
  ``track_total_hits``, ``_source`` filtering. Anything else answers 400
  ``fake_unsupported`` rather than being ignored.

What it cannot check is listed in ``NOT_CHECKED``; tests that need OpenSearch's own
behaviour there live in ``tests/integration/test_search_contract.py`` and run against a
real server when ``OPENSEARCH_URL`` is set.
"""
from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

NOT_CHECKED = (
    "relevance: every text match scores 1.0 (0.0 for filter-only queries), so ordering "
    "by _score is never exercised",
    "analyzers and normalizers: text matches as lower-cased whole words, and as word "
    "prefixes for a '.prefix' sub-field; no edge-ngram, stemming, asciifolding or "
    "lowercase normalizer on keyword sort",
    "fuzziness: a typo never matches (fuzziness and prefix_length are ignored)",
    "geo math: geo_distance filters and _geo_distance sorts answer 400 fake_unsupported; "
    "script a response with script_search() to test what the caller does with distances",
    "cluster behaviour: refresh intervals (writes are searchable at once), shards, "
    "replicas, max_result_window, version conflicts, concurrency between writers",
)

_WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_SETTINGS = ("OPENSEARCH_URL", "OPENSEARCH_INDEX", "OPENSEARCH_TIMEOUT")


@contextmanager
def search_settings(app, **settings):
    """Run with these search settings (``OPENSEARCH_URL=None``: the database backend),
    then put the old ones back; the backend is rebuilt from config on both sides."""
    from app.services import event_handlers

    saved = {key: app.config[key] for key in SEARCH_SETTINGS if key in app.config}
    app.config.update(settings)
    app.extensions.pop("bookwell.search", None)
    event_handlers.register(app.config)  # what start-up does: indexing listens or not
    try:
        yield
    finally:
        for key in SEARCH_SETTINGS:
            app.config.pop(key, None)
        app.config.update(saved)
        app.extensions.pop("bookwell.search", None)
        event_handlers.register(app.config)


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    body: Any  # parsed JSON, a list of NDJSON objects for _bulk, or None


@dataclass
class FakeIndex:
    body: dict
    docs: dict[str, dict] = field(default_factory=dict)

    @property
    def mappings(self) -> dict:
        return self.body.get("mappings") or {}


class FakeError(Exception):
    def __init__(self, status: int, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error_type, self.reason = status, error_type, reason

    def body(self) -> dict:
        cause = {"type": self.error_type, "reason": self.reason}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def _unsupported(what: str) -> FakeError:
    return FakeError(400, "fake_unsupported",
                     f"the OpenSearch stand-in does not implement {what}; see NOT_CHECKED")


class FakeOpenSearch:
    """Start with ``with FakeOpenSearch() as server:``; point a client at ``server.url``."""

    not_checked = NOT_CHECKED

    def __init__(self) -> None:
        self.indices: dict[str, FakeIndex] = {}
        self.aliases: dict[str, set[str]] = {}
        self.requests: list[RecordedRequest] = []
        self._scripted: list[dict] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> FakeOpenSearch:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenSearch:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- what tests look at --------------------------------------------------------------

    def script_search(self, response: dict) -> None:
        """Answer the next ``_search`` with ``response`` instead of evaluating it."""
        with self._lock:
            self._scripted.append(response)

    def calls(self, method: str | None = None, path_pattern: str | None = None
              ) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method)
                    and (path_pattern is None or re.fullmatch(path_pattern, r.path))]

    def search_bodies(self) -> list[dict]:
        return [r.body for r in self.calls(path_pattern=r"/[^/]+/_search")]

    def bulk_requests(self) -> list[list[dict]]:
        """Each ``_bulk`` request as its list of NDJSON lines."""
        return [r.body for r in self.calls("POST", r"(/[^/]+)?/_bulk")]

    def documents(self, name: str) -> dict[str, dict]:
        """Documents of an index, or of the single index behind an alias."""
        with self._lock:
            return dict(self.indices[self._write_index(name)].docs)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- REST ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, raw: bytes) -> tuple[int, Any]:
        body = self._parse_body(path, raw)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, body))
            parts = [unquote(p) for p in path.strip("/").split("/") if p]
            try:
                return self._route(method, parts, params, body)
            except FakeError as exc:
                return exc.status, exc.body()

    @staticmethod
    def _parse_body(path: str, raw: bytes) -> Any:
        if not raw:
            return None
        text = raw.decode("utf-8")
        if path.endswith("/_bulk"):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)

    def _route(self, method: str, parts: list[str], params: dict, body: Any):
        if not parts and method == "GET":
            return 200, {"version": {"distribution": "opensearch", "number": "2.19.0"},
                         "tagline": "The OpenSearch Project: https://opensearch.org/"}
        if parts == ["_aliases"] and method == "POST":
            return self._update_aliases(body)
        if len(parts) == 2 and parts[0] == "_alias" and method == "GET":
            return self._get_alias(parts[1])
        if parts[-1:] == ["_bulk"] and method in ("POST", "PUT"):
            return self._bulk(parts[0] if len(parts) == 2 else None, body or [])
        if len(parts) == 2 and parts[1] == "_search" and method in ("GET", "POST"):
            return self._search(parts[0], body or {})
        if len(parts) == 2 and parts[1] == "_refresh" and method in ("GET", "POST"):
            self._resolve(parts[0])
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(parts) == 1 and not parts[0].startswith("_"):
            name = parts[0]
            if method == "HEAD":
                return (200 if name in self.indices or name in self.aliases else 404), None
            if method == "PUT":
                return self._create_index(name, body or {})
            if method == "DELETE":
                return self._delete_index(name, params)
        raise _unsupported(f"{method} /{'/'.join(parts)}")

    # -- indexes and aliases -------------------------------------------------------------

    def _create_index(self, name: str, body: dict):
        if name in self.indices:
            raise FakeError(400, "resource_already_exists_exception",
                            f"index [{name}] already exists")
        if name in self.aliases:
            raise FakeError(400, "invalid_index_name_exception",
                            f"Invalid index name [{name}], already exists as alias")
        if name != name.lower():
            raise FakeError(400, "invalid_index_name_exception",
                            f"Invalid index name [{name}], must be lowercase")
        for alias in (body.get("aliases") or {}):
            self.aliases.setdefault(alias, set()).add(name)
        self.indices[name] = FakeIndex(body=body)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def _delete_index(self, name: str, params: dict):
        if name in self.aliases:
            raise FakeError(400, "illegal_argument_exception",
                            f"The provided expression [{name}] matches an alias")
        if name not in self.indices:
            if params.get("ignore_unavailable") == "true":
                return 200, {"acknowledged": True}
            raise FakeError(404, "index_not_found_exception", f"no such index [{name}]")
        del self.indices[name]
        for targets in self.aliases.values():
            targets.discard(name)
        self.aliases = {a: t for a, t in self.aliases.items() if t}
        return 200, {"acknowledged": True}

    def _get_alias(self, alias: str):
        targets = self.aliases.get(alias)
        if not targets:
            return 404, {"error": f"alias [{alias}] missing", "status": 404}
        return 200, {index: {"aliases": {alias: {}}} for index in sorted(targets)}

    def _update_aliases(self, body: dict):
        aliases = {a: set(t) for a, t in self.aliases.items()}
        indices = dict(self.indices)
        for action in body.get("actions") or []:
            (verb, args), = action.items()
            index, alias = args.get("index"), args.get("alias")
            if index not in indices:
                raise FakeError(404, "index_not_found_exception", f"no such index [{index}]")
            if verb == "add":
                aliases.setdefault(alias, set()).add(index)
            elif verb == "remove":
                if index not in aliases.get(alias, set()):
                    raise FakeError(404, "aliases_not_found_exception",
                                    f"aliases [{alias}] missing")
                aliases[alias].discard(index)
            elif verb == "remove_index":
                del indices[index]
                for targets in aliases.values():
                    targets.discard(index)
            else:
                raise _unsupported(f"alias action {verb!r}")
        clash = sorted(a for a, t in aliases.items() if t and a in indices)
        if clash:  # judged on the end state, so remove_index + add can swap the two
            raise FakeError(400, "invalid_alias_name_exception",
                            f"an index exists with the same name as the alias [{clash[0]}]")
        self.indices = indices
        self.aliases = {a: t for a, t in aliases.items() if t}
        return 200, {"acknowledged": True}

    def _resolve(self, name: str) -> list[str]:
        if name in self.aliases:
            return sorted(self.aliases[name])
        if name in self.indices:
            return [name]
        raise FakeError(404, "index_not_found_exception", f"no such index [{name}]")

    def _write_index(self, name: str) -> str:
        targets = self._resolve(name)
        if len(targets) != 1:
            raise FakeError(400, "illegal_argument_exception",
                            f"no write index is defined for alias [{name}]")
        return targets[0]

    # -- documents -----------------------------------------------------------------------

    def _bulk(self, default_index: str | None, lines: list[dict]):
        items, i = [], 0
        while i < len(lines):
            (op, meta), = lines[i].items()
            i += 1
            source = None
            if op in ("index", "create"):
                if i >= len(lines):
                    raise FakeError(400, "illegal_argument_exception",
                                    "The bulk request must be terminated by a newline")
                source, i = lines[i], i + 1
            elif op != "delete":
                raise _unsupported(f"bulk operation {op!r}")
            items.append({op: self._bulk_item(op, meta, source, default_index)})
        errors = any(not 200 <= next(iter(item.values()))["status"] < 300 for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(self, op: str, meta: dict, source: dict | None, default_index):
        name, doc_id = meta.get("_index") or default_index, str(meta.get("_id"))
        answer = {"_index": name, "_id": doc_id}
        try:
            index = self.indices[self._write_index(name)]
        except FakeError as exc:
            return {**answer, "status": exc.status,
                    "error": {"type": exc.error_type, "reason": exc.reason}}
        answer["_index"] = self._write_index(name)
        if op == "delete":
            found = index.docs.pop(doc_id, None) is not None
            return {**answer, "status": 200 if found else 404,
                    "result": "deleted" if found else "not_found"}
        problem = _mapping_problem(index.mappings, source)
        if problem:
            return {**answer, "status": 400, "error": problem}
        if op == "create" and doc_id in index.docs:
            return {**answer, "status": 409, "error": {
                "type": "version_conflict_engine_exception",
                "reason": f"[{doc_id}]: version conflict, document already exists"}}
        created = doc_id not in index.docs
        index.docs[doc_id] = source
        return {**answer, "status": 201 if created else 200,
                "result": "created" if created else "updated"}

    # -- search --------------------------------------------------------------------------

    def _search(self, target: str, body: dict):
        if self._scripted:
            return 200, self._scripted.pop(0)
        unknown = set(body) - {"query", "sort", "from", "size", "track_total_hits",
                               "track_scores", "_source"}
        if unknown:
            raise _unsupported(f"search keys {sorted(unknown)}")
        names = self._resolve(target)
        query = body.get("query") or {"match_all": {}}
        _check_query(query)  # refuse what it cannot evaluate, even with no documents
        scored = _has_must(query)
        matched = []
        for name in names:
            for doc_id, source in self.indices[name].docs.items():
                if _matches(query, source):
                    matched.append((name, doc_id, source, 1.0 if scored else 0.0))
        sort = _sort_clauses(body.get("sort"))
        for field_name, order in reversed(sort):
            if field_name == "_score":
                continue  # every score is the same
            present = [m for m in matched if _value(m[2], field_name) is not None]
            missing = [m for m in matched if _value(m[2], field_name) is None]
            present.sort(key=lambda m: _sort_key(_value(m[2], field_name)),
                         reverse=order == "desc")
            matched = present + missing
        start, size = int(body.get("from", 0)), int(body.get("size", 10))
        keep_score = not sort or any(f == "_score" for f, _ in sort) or body.get("track_scores")
        hits = []
        for name, doc_id, source, score in matched[start:start + size]:
            hit = {"_index": name, "_id": doc_id, "_score": score if keep_score else None,
                   "_source": _filter_source(source, body.get("_source", True))}
            if sort:
                hit["sort"] = [score if f == "_score" else _sort_value(_value(source, f))
                               for f, _ in sort]
            hits.append(hit)
        return 200, {"took": 1, "timed_out": False,
                     "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(matched), "relation": "eq"},
                              "max_score": (1.0 if scored else 0.0) if matched else None,
                              "hits": hits}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenSearch
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body = self.fake.handle(self.command, split.path,
                                        dict(parse_qsl(split.query)), raw)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet test output
        pass


# -- mapping checks ----------------------------------------------------------------------

def _mapping_problem(mappings: dict, source: dict) -> dict | None:
    properties = mappings.get("properties") or {}
    for key, value in source.items():
        spec = properties.get(key)
        if spec is None:
            if mappings.get("dynamic") == "strict":
                return {"type": "strict_dynamic_mapping_exception",
                        "reason": f"mapping set to strict, dynamic introduction of [{key}] "
                                  "is not allowed"}
            continue
        if value is not None and not _fits(spec.get("type", "object"), value):
            return {"type": "mapper_parsing_exception",
                    "reason": f"failed to parse field [{key}] of type [{spec.get('type')}]: "
                              f"{value!r}"}
    return None


def _fits(kind: str, value: Any) -> bool:
    if kind in ("integer", "long", "short", "byte"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double", "scaled_float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("keyword", "text"):
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        try:
            datetime.fromisoformat(value)
            return True
        except (TypeError, ValueError):
            return False
    if kind == "geo_point":
        return (isinstance(value, dict) and set(value) == {"lat", "lon"}
                and all(isinstance(value[k], (int, float)) for k in ("lat", "lon"))
                and -90 <= value["lat"] <= 90 and -180 <= value["lon"] <= 180)
    return True


# -- query evaluation --------------------------------------------------------------------

def _value(source: dict, field_name: str) -> Any:
    base = field_name.split(".")[0]  # name.keyword and name.prefix read name
    return source.get(base)


def _has_must(query: dict) -> bool:
    return "bool" in query and bool(query["bool"].get("must"))


def _listed(clauses) -> list:
    if clauses is None:
        return []
    return clauses if isinstance(clauses, list) else [clauses]


_LEAF_QUERIES = ("match_all", "term", "terms", "range", "exists", "multi_match")


def _check_query(query: dict) -> None:
    (kind, args), = query.items()
    if kind == "bool":
        unknown = set(args) - {"filter", "must"}
        if unknown:
            raise _unsupported(f"bool keys {sorted(unknown)}")
        for clause in _listed(args.get("filter")) + _listed(args.get("must")):
            _check_query(clause)
    elif kind not in _LEAF_QUERIES:
        raise _unsupported(f"the {kind!r} query")


def _matches(query: dict, source: dict) -> bool:
    (kind, args), = query.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        return all(_matches(c, source)
                   for c in _listed(args.get("filter")) + _listed(args.get("must")))
    if kind == "term":
        (name, wanted), = args.items()
        wanted = wanted["value"] if isinstance(wanted, dict) else wanted
        return _value(source, name) == wanted
    if kind == "terms":
        (name, wanted), = args.items()
        return _value(source, name) in wanted
    if kind == "range":
        (name, bounds), = args.items()
        value = _value(source, name)
        if value is None:
            return False
        checks = {"gte": lambda b: value >= b, "gt": lambda b: value > b,
                  "lte": lambda b: value <= b, "lt": lambda b: value < b}
        if set(bounds) - set(checks):
            raise _unsupported(f"range options {sorted(set(bounds) - set(checks))}")
        return all(checks[op](bound) for op, bound in bounds.items())
    if kind == "exists":
        return _value(source, args["field"]) is not None
    return _multi_match(args, source)  # the last kind _check_query lets through


def _multi_match(args: dict, source: dict) -> bool:
    tokens = _WORD.findall(str(args["query"]).lower())
    if not tokens:
        return False
    need_all = str(args.get("operator", "or")).lower() == "and"
    for spec in args.get("fields") or []:
        name = spec.split("^")[0]
        words = _WORD.findall(str(_value(source, name) or "").lower())
        if name.endswith(".prefix"):
            hits = [any(w.startswith(t) for w in words) for t in tokens]
        else:
            hits = [t in words for t in tokens]
        if (all(hits) if need_all else any(hits)):
            return True
    return False


def _sort_clauses(sort) -> list[tuple[str, str]]:
    clauses = []
    for clause in _listed(sort):
        if isinstance(clause, str):
            clauses.append((clause, "desc" if clause == "_score" else "asc"))
            continue
        (name, spec), = clause.items()
        if name == "_geo_distance":
            raise _unsupported("_geo_distance sorting (geo math)")
        if isinstance(spec, dict):
            if set(spec) - {"order"}:
                raise _unsupported(f"sort options {sorted(set(spec) - {'order'})}")
            spec = spec.get("order", "asc")
        clauses.append((name, spec))
    return clauses


def _sort_key(value: Any):
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return value
    return value


def _sort_value(value: Any):
    """Dates sort as epoch milliseconds, like OpenSearch answers them."""
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value).timestamp() * 1000)
        except ValueError:
            return value
    return value


def _filter_source(source: dict, wanted) -> dict | None:
    if wanted is False:
        return None
    if wanted is True:
        return dict(source)
    return {k: v for k, v in source.items() if k in _listed(wanted)}
