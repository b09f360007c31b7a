"""A local OpenAI-compatible server for tests: scripted chat completions over real HTTP.

Each test queues replies (a tool call, a proposal, malformed JSON, a refusal,
a delay); the real ``openai`` client talks to it exactly as to a vendor."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def completion(message: dict[str, Any], finish: str = "stop", tokens=(120, 30)) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": tokens[0],
            "completion_tokens": tokens[1],
            "total_tokens": sum(tokens),
        },
    }


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str = "call_1") -> dict:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": raw}}
            ],
        },
        finish="tool_calls",
    )


def refusal(text: str = "I can't help with that.") -> dict[str, Any]:
    return completion({"role": "assistant", "content": None, "refusal": text})


def chat(text: str) -> dict[str, Any]:
    return completion({"role": "assistant", "content": text})


class StubLLM:
    """Serves queued replies in order; the last one repeats. ``delay`` stalls each answer."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        self.status = 200
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                if stub.delay:
                    time.sleep(stub.delay)
                if stub.status != 200:
                    payload = {"error": {"message": "stub failure", "type": "server_error"}}
                    code = stub.status
                else:
                    reply = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                    payload = reply(body) if callable(reply) else reply
                    code = 200
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StubLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
