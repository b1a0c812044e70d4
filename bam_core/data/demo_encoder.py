"""`bam demo-encoder`: a WordPiece tokenizer trained on the suite's training text, a tiny BertConfig and,
with --pretrain-steps, that BERT pretrained as BERT is (masked language modelling) on the same text.

    bam demo-encoder --data-dir results/data --tasks CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE \
        --out-dir results/encoders/demo --vocab-size 2000 --hidden-size 64 --pretrain-steps 600

The directory loads with `AutoTokenizer.from_pretrained(dir)`, `AutoConfig.from_pretrained(dir)` and, when
pretrained, `AutoModel.from_pretrained(dir)`, like a pretrained encoder, so everything downstream treats the
demo and BERT-Large the same way. The tokenizer is BERT's recipe (lowercasing BERT normalizer, BERT
pre-tokenizer, [CLS] a [SEP] b [SEP]). Without pretraining no weights are written: the trainer initialises
them from the config, from each run's seed.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from bam_core.data.splits import read_split
from bam_core.data.tasks import get_task
from bam_core.errors import BamError

log = logging.getLogger(__name__)
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0, as BERT's vocab


def training_text(data_dir, tasks: Iterable[str]) -> list[str]:
    """The training split's sentences (text_a, then text_b of pair tasks), task by task."""
    texts = []
    for name in tasks:
        task = get_task(name)
        table = read_split(Path(data_dir) / task.name, "train")
        texts += table.column("text_a").to_pylist()
        if task.pair:
            texts += table.column("text_b").to_pylist()
    return texts


def bert_pipeline(model) -> Tokenizer:
    """BERT's recipe around a WordPiece model: lowercasing normalizer, pre-tokenizer, [CLS] a [SEP] b [SEP]."""
    tok = Tokenizer(model)
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    return tok


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """A WordPiece tokenizer trained with `tokenizers`, the same for the same texts in every process.

    The trainer numbers word-internal pieces ("##a") in hash-map order, and ties between merges are broken
    by those numbers, so two runs can learn different vocabularies. Reserving every "##c" up front, sorted,
    fixes the numbering; the model is then rebuilt so that only BERT's five tokens are special.
    """
    tok = bert_pipeline(models.WordPiece(unk_token="[UNK]"))
    chars = sorted({c for c in tok.normalizer.normalize_str(" ".join(texts)) if not c.isspace()})
    reserved = SPECIAL_TOKENS + [f"##{c}" for c in chars]
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=reserved, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok = bert_pipeline(models.WordPiece(vocab=tok.get_vocab(), unk_token="[UNK]"))
    tok.add_special_tokens(SPECIAL_TOKENS)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tok


def build(data_dir, tasks: list[str], out_dir, vocab_size: int = 2000, max_position_embeddings: int = 128,
          pretrain_steps: int = 0, num_threads: int = 1, **model_sizes) -> Path:
    """Train the tokenizer, write it, the BertConfig and (pretrain_steps > 0) the MLM-pretrained weights into
    out_dir (built in a temp dir, renamed into place)."""
    from transformers import BertConfig, PreTrainedTokenizerFast

    tok = train_tokenizer(training_text(data_dir, tasks), vocab_size)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", do_lower_case=True, model_max_length=max_position_embeddings,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],  # BERT's inputs
    )
    config = BertConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=max_position_embeddings,
                        pad_token_id=tok.token_to_id("[PAD]"), **model_sizes)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        fast.save_pretrained(tmp)
        config.save_pretrained(tmp)
        if pretrain_steps:
            from bam_core.data.demo_pretraining import encoder_of, examples, pretrain_mlm

            mlm = pretrain_mlm(tmp, examples(data_dir, tasks), pretrain_steps, num_threads=num_threads)
            encoder_of(mlm).save_pretrained(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("demo encoder: vocab %d, %s, %d MLM pretraining steps -> %s", tok.get_vocab_size(), model_sizes,
             pretrain_steps, out_dir)
    return out_dir


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bam demo-encoder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="results/data: holds {task}/train.parquet")
    p.add_argument("--tasks", nargs="+", required=True, help="tasks whose training text the vocabulary is learnt from")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--vocab-size", type=int, default=2000)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--num-hidden-layers", type=int, default=2)
    p.add_argument("--num-attention-heads", type=int, default=2)
    p.add_argument("--intermediate-size", type=int, default=128)
    p.add_argument("--max-position-embeddings", type=int, default=128)
    p.add_argument("--initializer-range", type=float, default=0.02,
                   help="sd of the random initial weights (BERT: 0.02); the task heads take it too")
    p.add_argument("--pretrain-steps", type=int, default=0,
                   help="masked-language-model steps on the tasks' training text (0: no weights, random init per run)")
    p.add_argument("--num-threads", type=int, default=1, help="torch threads for pretraining")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.initializer_range <= 0:
        raise BamError(f"--initializer-range must be positive, got {args.initializer_range}")
    if args.hidden_size % args.num_attention_heads:
        raise BamError(f"--hidden-size {args.hidden_size} is not a multiple of --num-attention-heads "
                       f"{args.num_attention_heads}")
    if args.pretrain_steps < 0:
        raise BamError(f"--pretrain-steps must be 0 or more, got {args.pretrain_steps}")
    build(args.data_dir, args.tasks, args.out_dir, args.vocab_size, args.max_position_embeddings,
          args.pretrain_steps, args.num_threads, hidden_size=args.hidden_size, num_hidden_layers=args.num_hidden_layers,
          num_attention_heads=args.num_attention_heads, intermediate_size=args.intermediate_size,
          initializer_range=args.initializer_range)
    return 0
