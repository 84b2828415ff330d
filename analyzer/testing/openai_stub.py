"""A real OpenAI-compatible HTTP server on loopback, for fault-injection tests and benchmarks.

It serves ``POST /v1/chat/completions`` and ``GET /v1/models`` (plus ``GET /stats`` for a benchmark in
another process), and Anthropic's Messages API (``POST /v1/messages``, translated to and from the same
responder, so one stub tests both provider families), with a fixed latency and, at seeded rates, the
failures a production endpoint shows:
429 with Retry-After, 500, a hang past the client's timeout, a truncated JSON body, and well-formed JSON
that violates the requested schema. Faults are drawn from ``Random(f"{seed}:{n}")`` for the n-th request,
so a run is reproducible; ``max_failures_per_request`` caps the faults served to one request body, so a
client that retries the same request eventually succeeds (the "fail at most N times" mode).

The default responder answers like a model would for the three shapes walkaway sends:

- ``logprobs: true`` (yes/no scoring): "Yes" or "No" from the sha256 of the last user message, with both
  tokens in ``top_logprobs``;
- ``response_format`` (``json_schema`` or llama.cpp's ``json_object`` + ``schema``), or a forced tool
  call: a minimal valid instance of the schema;
- anything else: a short text.

    with OpenAIStub(latency=0.05, faults=Faults(rate_429=0.1, seed=3)) as stub:
        os.environ["WALKAWAY_BASE_URL"] = stub.url      # http://127.0.0.1:PORT/v1
        ...
        assert stub.requests == 42

CLI: ``python -m analyzer.testing.openai_stub --latency 0.2 [--port 8089] [--rate-500 0.05 ...]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any]]
"""``responder(request_json) -> {"content": str, "logprobs": dict | None, "tool_calls": list | None}``."""

FAULT_KINDS = ("429", "500", "hang", "truncated", "schema_invalid")


@dataclass
class Faults:
    """Fault rates (each a probability per request) and how the faults behave."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_hang: float = 0.0
    rate_truncated: float = 0.0
    rate_schema_invalid: float = 0.0
    retry_after: float = 1.0
    """Seconds sent in Retry-After (and retry-after-ms) with each 429."""
    hang_seconds: float = 30.0
    """How long a hung request holds the connection before closing it without an answer."""
    max_failures_per_request: int | None = None
    """At most this many faults per distinct request body; None means no cap."""
    seed: int = 0

    def pick(self, n: int) -> str | None:
        """The fault for the n-th request (1-based), or None; deterministic in (seed, n)."""
        u = random.Random(f"{self.seed}:{n}").random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += float(getattr(self, f"rate_{kind}"))
            if u < edge:
                return kind
        return None


# ---------------------------------------------------------------- schema instances


def minimal_instance(schema: dict[str, Any], root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """The smallest value valid against a JSON schema (the subset structured outputs use).

    Required properties only; enums and consts take their first value; arrays are empty unless
    ``minItems``; strings are "" (or ``minLength`` x's), numbers 0 (or ``minimum``), booleans false.
    """
    root = root if root is not None else schema
    if depth > 32:
        return None
    if "$ref" in schema:
        return minimal_instance(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return minimal_instance(options[0], root, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part["$ref"], root) if "$ref" in part else part
            for k, v in part.items():
                if k in ("properties",) and k in merged:
                    merged[k] = {**merged[k], **v}
                elif k == "required" and k in merged:
                    merged[k] = [*merged[k], *v]
                else:
                    merged[k] = v
        return minimal_instance(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(props.get(name, {}), root, depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        items = schema.get("items", {})
        return [minimal_instance(items, root, depth + 1) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(0, low + (1 if "exclusiveMinimum" in schema else 0))
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    return None


def invalid_instance(schema: dict[str, Any]) -> Any:
    """Well-formed JSON that violates the schema: a required property missing, or the wrong type."""
    value = minimal_instance(schema)
    if isinstance(value, dict) and value:
        value.pop(next(iter(value)))
        return value
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return {"unexpected": value}


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if part:
            node = node[part]
    return dict(node)


def request_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the request asks the answer to follow, if any."""
    fmt = request.get("response_format")
    if isinstance(fmt, dict):
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema")
            return schema if isinstance(schema, dict) else {"type": "object"}
        if fmt.get("type") == "json_object":
            schema = fmt.get("schema")
            return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def forced_tool(request: dict[str, Any]) -> dict[str, Any] | None:
    """The function the request forces a call to (or its only tool), if it uses tool calling."""
    tools = request.get("tools") or []
    if not tools:
        return None
    choice = request.get("tool_choice")
    name = None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
    for tool in tools:
        fn = tool.get("function") or {}
        if name is None or fn.get("name") == name:
            return dict(fn)
    return None


def last_user_text(request: dict[str, Any]) -> str:
    """The text of the last user message (content parts joined)."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _token_entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def default_responder(request: dict[str, Any]) -> dict[str, Any]:
    """Deterministic answers in the shapes walkaway asks for (see the module docstring)."""
    tool = forced_tool(request)
    if tool is not None:
        args = minimal_instance(tool.get("parameters") or {"type": "object"})
        function = {"name": str(tool.get("name", "")), "arguments": json.dumps(args)}
        call = {"id": "call_stub", "type": "function", "function": function}
        return {"content": None, "tool_calls": [call], "finish_reason": "tool_calls"}
    schema = request_schema(request)
    if schema is not None:
        return {"content": json.dumps(minimal_instance(schema))}
    if request.get("logprobs"):
        digest = hashlib.sha256(last_user_text(request).encode()).digest()
        p_yes = (digest[0] + 0.5) / 256.0
        answer = "Yes" if p_yes >= 0.5 else "No"
        top = [_token_entry("Yes", math.log(p_yes)), _token_entry("No", math.log(1.0 - p_yes))]
        top.sort(key=lambda e: -e["logprob"])
        first = _token_entry(answer, math.log(p_yes if answer == "Yes" else 1.0 - p_yes))
        first["top_logprobs"] = top[: max(2, int(request.get("top_logprobs") or 2))]
        return {"content": answer, "logprobs": {"content": [first], "refusal": None}}
    return {"content": "This is a stub reply."}


def _rough_tokens(text: str) -> int:
    # About four characters per token; enough for usage accounting in tests.
    return max(1, len(text) // 4)


# ---------------------------------------------------------------- server


class _QuietServer(ThreadingHTTPServer):
    """Clients that time out or give up close their connections mid-request; that is expected here."""

    # The default backlog of 5 drops connection attempts when a batch opens dozens at once, and a
    # dropped SYN costs a 1 s retransmit: that would look like endpoint latency the real ones lack.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class OpenAIStub:
    """The stub server; a context manager that serves on a background thread."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: Faults | None = None,
        responder: Responder | None = None,
        model: str = "stub-model",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """``latency`` seconds are added to every answer; ``port`` 0 picks a free one."""
        self.latency = latency
        self.faults = faults or Faults()
        self.responder = responder or default_responder
        self.model = model
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests = 0
        """Chat completion requests received (faulty ones included)."""
        self.served_ok = 0
        """Chat completion requests answered normally."""
        self.faults_served: Counter[str] = Counter()
        self._failures_by_body: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []
        """Every chat completion request body received, in arrival order."""
        self._server = _QuietServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port served on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client, ending in ``/v1``."""
        host = self._server.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        """The base URL to give an Anthropic client (it appends ``/v1/messages`` itself)."""
        return self.url.removesuffix("/v1")

    def start(self) -> OpenAIStub:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release hung requests."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Counters as a JSON-able dict."""
        with self._lock:
            return {
                "requests": self.requests,
                "served_ok": self.served_ok,
                "faults": dict(self.faults_served),
                "latency": self.latency,
                "fault_config": asdict(self.faults),
            }

    def _decide(self, body: bytes, request: dict[str, Any]) -> tuple[int, str | None]:
        with self._lock:
            self.requests += 1
            n = self.requests
            self.log.append(request)
            fault = self.faults.pick(n)
            if fault == "schema_invalid" and request_schema(request) is None:
                fault = None  # only schema requests can be off-schema
            if fault is not None:
                key = hashlib.sha256(body).hexdigest()
                cap = self.faults.max_failures_per_request
                if cap is not None and self._failures_by_body[key] >= cap:
                    fault = None
                else:
                    self._failures_by_body[key] += 1
                    self.faults_served[fault] += 1
            if fault is None:
                self.served_ok += 1
            return n, fault

    def _completion(self, n: int, request: dict[str, Any], fault: str | None) -> dict[str, Any]:
        if fault == "schema_invalid":
            schema = request_schema(request) or {"type": "object"}
            answer: dict[str, Any] = {"content": json.dumps(invalid_instance(schema))}
        else:
            answer = self.responder(request)
        content = answer.get("content")
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if answer.get("tool_calls"):
            message["tool_calls"] = answer["tool_calls"]
        prompt_text = json.dumps(request.get("messages") or [])
        completion_text = content or json.dumps(answer.get("tool_calls") or [])
        prompt_tokens = _rough_tokens(prompt_text)
        completion_tokens = 1 if request.get("logprobs") else _rough_tokens(completion_text)
        return {
            "id": f"chatcmpl-stub-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(request.get("model") or self.model),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": answer.get("logprobs"),
                    "finish_reason": answer.get("finish_reason", "stop"),
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keep-alive: clients reuse connections as they would against a real endpoint.
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without NODELAY, Nagle plus the client's
                # delayed ACK add ~40 ms to every answer, which would swamp a 200 ms latency benchmark.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests and benchmarks read counters, not access logs

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(obj).encode(), headers)

            def do_GET(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/models"):
                    entry = {"id": stub.model, "object": "model", "created": 0, "owned_by": "walkaway-stub"}
                    self._json(200, {"object": "list", "data": [entry]})
                elif path == "/stats":
                    self._json(200, stub.stats())
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                route = self.path.split("?")[0].rstrip("/")
                anthropic = route.endswith("/messages")
                if not (route.endswith("/chat/completions") or anthropic):
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                try:
                    request = json.loads(body)
                except ValueError:
                    self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                    return
                if anthropic:
                    request = from_anthropic(request)
                n, fault = stub._decide(body, request)
                if stub.latency:
                    time.sleep(stub.latency)
                if fault == "hang":
                    # Hold the connection past the client's timeout, then drop it without an answer.
                    stub._stop.wait(stub.faults.hang_seconds)
                    self.close_connection = True
                    return
                if fault == "429":
                    after = stub.faults.retry_after
                    headers = {"Retry-After": _seconds(after), "retry-after-ms": str(int(after * 1000))}
                    err = {
                        "message": "Rate limit reached (stub)",
                        "type": "rate_limit_error",
                        "code": "rate_limit",
                    }
                    self._json(429, {"error": err}, headers)
                    return
                if fault == "500":
                    self._json(500, {"error": {"message": "internal error (stub)", "type": "server_error"}})
                    return
                completion = stub._completion(n, request, fault)
                payload = json.dumps(to_anthropic(completion) if anthropic else completion).encode()
                if fault == "truncated":
                    payload = payload[: len(payload) // 2]
                    self.close_connection = True
                self._send(200, payload)

        return Handler


def from_anthropic(request: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic Messages request in the OpenAI shape the responders read (system, tools, tool_choice)."""
    messages: list[dict[str, Any]] = []
    system = request.get("system")
    if isinstance(system, list):
        system = "".join(p.get("text", "") for p in system if isinstance(p, dict))
    if system:
        messages.append({"role": "system", "content": system})
    messages += list(request.get("messages") or [])
    out: dict[str, Any] = {"model": request.get("model"), "messages": messages, "anthropic": True}
    tools = request.get("tools") or []
    if tools:
        out["tools"] = [
            {"type": "function", "function": {"name": t.get("name"), "parameters": t.get("input_schema") or {}}}
            for t in tools
        ]
        choice = request.get("tool_choice") or {}
        if choice.get("type") == "tool":
            out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    return out


def to_anthropic(completion: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-shaped completion as an Anthropic Messages response (text and tool_use blocks)."""
    message = completion["choices"][0]["message"]
    blocks: list[dict[str, Any]] = []
    if message.get("content"):
        blocks.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        fn = call["function"]
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{call['id']}", "name": fn["name"], "input": json.loads(fn["arguments"])}
        )
    usage = completion["usage"]
    return {
        "id": completion["id"].replace("chatcmpl", "msg"),
        "type": "message",
        "role": "assistant",
        "model": completion["model"],
        "content": blocks,
        "stop_reason": "tool_use" if message.get("tool_calls") else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"]},
    }


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def main(argv: list[str] | None = None) -> None:
    """Run the stub in the foreground until Ctrl-C / SIGTERM; prints its base URL first."""
    parser = argparse.ArgumentParser(prog="python -m analyzer.testing.openai_stub", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--model", default="stub-model")
    for kind in FAULT_KINDS:
        parser.add_argument(f"--rate-{kind.replace('_', '-')}", type=float, default=0.0, dest=f"rate_{kind}")
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--max-failures-per-request", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    faults = Faults(
        **{f"rate_{k}": getattr(args, f"rate_{k}") for k in FAULT_KINDS},
        retry_after=args.retry_after,
        hang_seconds=args.hang_seconds,
        max_failures_per_request=args.max_failures_per_request,
        seed=args.seed,
    )
    stub = OpenAIStub(latency=args.latency, faults=faults, model=args.model, host=args.host, port=args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    stub.start()
    print(stub.url, flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()


if __name__ == "__main__":
    main()
