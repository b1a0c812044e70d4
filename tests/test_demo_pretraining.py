"""The demo encoder's masked-language-model pretraining (bam_core/data/demo_pretraining.py)."""

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from bam_core.data import demo_encoder
from bam_core.data.demo_pretraining import examples, masked_lm_loss, pretrain_mlm
from bam_core.data.splits import make_split, split_metadata, write_splits
from bam_core.data.tasks import get_task
from bam_core.errors import BamError

SIZES = ["--vocab-size", "200", "--hidden-size", "32", "--num-hidden-layers", "1", "--num-attention-heads", "2",
         "--intermediate-size", "64", "--max-position-embeddings", "32"]


def write_task(root, name, a, b=None):
    task = get_task(name)
    labels = [0] * len(a)
    table = make_split(task, a, b, labels, where="test")
    write_splits(root / name, {s: (table, split_metadata(task, s, "test", table)) for s in ("train", "dev")})


@pytest.fixture
def data(tmp_path):
    """Two tasks whose middle word is determined by the first: the dog ... chases, the cat ... sleeps."""
    root = tmp_path / "data"
    write_task(root, "SST-2", ["the dog chases the ball ."] * 40 + ["a cat sleeps on a mat ."] * 40)
    write_task(root, "RTE", ["the dog chases the ball ."] * 20, ["a cat sleeps on a mat ."] * 20)
    return root


def test_examples_are_the_inputs_fine_tuning_sees(data):
    rows = examples(data, ["SST-2", "RTE"])
    assert len(rows) == 100
    assert rows[0] == ("the dog chases the ball .", None)
    assert rows[-1] == ("the dog chases the ball .", "a cat sleeps on a mat .")


def test_pretraining_learns_what_the_masked_word_is(data, tmp_path):
    """Known answer: in this text the word after "the dog" is always "chases" and after "a cat" "sleeps";
    300 steps of pretraining predict both at [MASK]; the same model after 0 steps does not."""
    assert demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "RTE", "--out-dir",
                              str(tmp_path / "enc"), *SIZES]) == 0
    tok = AutoTokenizer.from_pretrained(tmp_path / "enc")
    batch = tok(["the dog [MASK] the ball .", "a cat [MASK] on a mat ."], return_tensors="pt", padding=True)
    at = (batch["input_ids"] == tok.mask_token_id).nonzero(as_tuple=True)

    def guesses(steps):
        mlm = pretrain_mlm(tmp_path / "enc", examples(data, ["SST-2", "RTE"]), steps, batch_size=16, lr=3e-3)
        mlm.eval()
        with torch.no_grad():
            return tok.convert_ids_to_tokens(mlm(**batch).logits[at].argmax(-1).tolist())

    assert guesses(300) == ["chases", "sleeps"]
    assert guesses(0) != ["chases", "sleeps"]


def test_masked_lm_loss_is_bert_for_masked_lm_loss(data, tmp_path):
    """The head on the masked positions only gives BertForMaskedLM's own loss (which reads only those)."""
    from transformers import AutoConfig, BertForMaskedLM, DataCollatorForLanguageModeling

    assert demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "RTE", "--out-dir",
                              str(tmp_path / "enc"), *SIZES]) == 0
    tok = AutoTokenizer.from_pretrained(tmp_path / "enc")
    torch.manual_seed(0)
    model = BertForMaskedLM(AutoConfig.from_pretrained(tmp_path / "enc")).eval()
    collate = DataCollatorForLanguageModeling(tok, mlm_probability=0.3, seed=0)
    batch = collate([tok(a, b) for a, b in examples(data, ["SST-2", "RTE"])[30:50]])
    assert (batch["labels"] != -100).sum() > 10 and (batch["attention_mask"] == 0).any()  # masks and padding
    with torch.no_grad():
        assert torch.allclose(masked_lm_loss(model, batch), model(**batch).loss, rtol=1e-6)


def test_demo_encoder_writes_weights_that_load_without_missing_keys(data, tmp_path):
    out = tmp_path / "enc"
    assert demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "RTE", "--out-dir", str(out), *SIZES,
                              "--pretrain-steps", "20"]) == 0
    model, info = AutoModel.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    again = tmp_path / "again"
    assert demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "RTE", "--out-dir", str(again), *SIZES,
                              "--pretrain-steps", "20"]) == 0
    assert (out / "model.safetensors").read_bytes() == (again / "model.safetensors").read_bytes()  # same seed
    plain = tmp_path / "plain"
    assert demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "RTE", "--out-dir", str(plain), *SIZES]) == 0
    assert not (plain / "model.safetensors").exists()  # no pretraining: random init per run, from the config


def test_negative_steps_are_refused(data, tmp_path):
    with pytest.raises(BamError, match="--pretrain-steps must be 0 or more"):
        demo_encoder.main(["--data-dir", str(data), "--tasks", "SST-2", "--out-dir", str(tmp_path / "e"),
                           *SIZES, "--pretrain-steps", "-1"])
