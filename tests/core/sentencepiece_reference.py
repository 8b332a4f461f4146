"""A SentencePiece model trained by the Python bindings (python3-sentencepiece), and their
encodings: the reference the tokenizer test compares Distillery's tokenizer.model reader with.

usage: sentencepiece_reference.py CORPUS MODEL_PREFIX TEXT_FILE [TEXT_FILE...]
Writes MODEL_PREFIX.model (BPE, byte fallback, Llama's normalization settings) and prints
{"ids": [[ids of each text]], "pieces": N, "bos": id, "eos": id, "unk": id}.
"""
import json
import sys

import sentencepiece as spm

corpus, prefix, *texts = sys.argv[1:]
spm.SentencePieceTrainer.train(
    input=corpus, model_prefix=prefix, vocab_size=700, model_type="bpe", byte_fallback=True,
    normalization_rule_name="identity", remove_extra_whitespaces=False, split_digits=True,
    character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
ids = []
for path in texts:
    with open(path, encoding="utf-8") as f:
        ids.append(sp.encode(f.read()))
print(json.dumps({"ids": ids, "pieces": sp.get_piece_size(), "bos": sp.bos_id(), "eos": sp.eos_id(),
                  "unk": sp.unk_id()}))
