"""Writes a GPT-2-124M-shaped Hugging Face folder (random weights) for bench/hf_load_bench.sh.
usage: make_gpt2_124m.py OUTDIR [F16|BF16|F32]
config.json (V 50257, 1024 positions, d 768, 12 layers, 12 heads, tied head) and one
model.safetensors under GPT2LMHeadModel's names, written without the safetensors package."""
import json
import os
import sys

import torch

out = sys.argv[1]
dtype = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}[sys.argv[2] if len(sys.argv) > 2 else "F16"]
V, P, D, L = 50257, 1024, 768, 12
shapes = {"transformer.wte.weight": [V, D], "transformer.wpe.weight": [P, D],
          "transformer.ln_f.weight": [D], "transformer.ln_f.bias": [D]}
for i in range(L):
    h = f"transformer.h.{i}."
    shapes.update({h + "ln_1.weight": [D], h + "ln_1.bias": [D], h + "attn.c_attn.weight": [D, 3 * D],
                   h + "attn.c_attn.bias": [3 * D], h + "attn.c_proj.weight": [D, D], h + "attn.c_proj.bias": [D],
                   h + "ln_2.weight": [D], h + "ln_2.bias": [D], h + "mlp.c_fc.weight": [D, 4 * D],
                   h + "mlp.c_fc.bias": [4 * D], h + "mlp.c_proj.weight": [4 * D, D], h + "mlp.c_proj.bias": [D]})
os.makedirs(out, exist_ok=True)
name = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32"}[dtype]
header, offset = {"__metadata__": {"format": "pt"}}, 0
size = torch.tensor([], dtype=dtype).element_size()
for k, s in shapes.items():
    n = 1
    for d in s:
        n *= d
    header[k] = {"dtype": name, "shape": s, "data_offsets": [offset, offset + n * size]}
    offset += n * size
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
g = torch.Generator().manual_seed(0)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    for k, s in shapes.items():
        t = (torch.randn(*s, generator=g) * 0.02).to(dtype)
        f.write(t.view(torch.uint8).numpy().tobytes())
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({"model_type": "gpt2", "vocab_size": V, "n_positions": P, "n_ctx": P, "n_embd": D, "n_layer": L,
               "n_head": 12, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
               "tie_word_embeddings": True}, f)
