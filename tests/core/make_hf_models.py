"""Writes small Hugging Face GPT-2 folders for the loader tests, with reference logits.

Usage: make_hf_models.py OUTDIR [GPT2_TOKENIZER_DIR]

Each folder holds config.json and safetensors weights under the names and in the layout
Hugging Face's GPT2LMHeadModel uses (Conv1D weights [in, out], fused c_attn), plus
tokens.json (the token ids) and reference.json (the logits of an independent PyTorch forward
written to GPT-2's semantics, computed in float64 from the weights as stored):

  tied/      GPT2Model names (no "transformer." prefix), head tied to wte, gelu_new, F32,
             n_inner null, with the attn.bias buffers older files carry
  untied/    "transformer." prefix and lm_head.weight, exact gelu, n_inner 40, F16
  sharded/   BF16 in two shards with model.safetensors.index.json, layer_norm_epsilon 1e-6,
             _name_or_path "example-org/tiny-gpt2", quick_gelu
  gpt2vocab/ GPT-2's vocabulary of 50257 (a tiny model, d 8), with vocab.json and merges.txt
             copied from GPT2_TOKENIZER_DIR (encoder.json, vocab.bpe), when given

and Llama-family folders under LlamaForCausalLM's names (reference written to
modeling_llama.py's semantics: RMSNorm, rotate-half rotary positions, repeat_kv grouped-query
attention, SwiGLU):

  llama-mqa/     llama, 4 heads sharing 1 key/value head, untied, "model." prefix, F32
  llama-gqa/     llama, 4 heads over 2 key/value heads, tied, no prefix (LlamaModel names),
                 head_dim 6 (not hidden / heads), rope_theta 500000, attention and MLP biases, F16
  qwen2-sharded/ qwen2 (q/k/v biases), tied, BF16 in two shards
  mistral-window/ mistral with a sliding window of 5 positions over inputs of 16, 2 KV heads
  llama-sp/      llama over a SentencePiece tokenizer.model (BPE with byte fallback, trained here
                 by python3-sentencepiece, when it is installed), vocab_size 12 more than its
                 pieces, with tokenizer_config.json and hello.json (the library's ids of
                 "Hello world")
"""
import json
import math
import os
import sys

import torch

V, P, D, L, H = 50, 16, 24, 2, 3  # the gpt2vocab folder changes V, D and H for its make()
DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.uint8 else t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for b in blobs:
            f.write(b)


def weights(ffn, tied, gen):
    def rnd(*shape, std=0.3):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

    w = {"wte.weight": rnd(V, D), "wpe.weight": rnd(P, D, std=0.1)}
    for i in range(L):
        h = f"h.{i}."
        w[h + "ln_1.weight"] = 1 + rnd(D, std=0.1)
        w[h + "ln_1.bias"] = rnd(D, std=0.1)
        w[h + "attn.c_attn.weight"] = rnd(D, 3 * D)
        w[h + "attn.c_attn.bias"] = rnd(3 * D, std=0.1)
        w[h + "attn.c_proj.weight"] = rnd(D, D)
        w[h + "attn.c_proj.bias"] = rnd(D, std=0.1)
        w[h + "ln_2.weight"] = 1 + rnd(D, std=0.1)
        w[h + "ln_2.bias"] = rnd(D, std=0.1)
        w[h + "mlp.c_fc.weight"] = rnd(D, ffn)
        w[h + "mlp.c_fc.bias"] = rnd(ffn, std=0.1)
        w[h + "mlp.c_proj.weight"] = rnd(ffn, D)
        w[h + "mlp.c_proj.bias"] = rnd(D, std=0.1)
    w["ln_f.weight"] = 1 + rnd(D, std=0.1)
    w["ln_f.bias"] = rnd(D, std=0.1)
    if not tied:
        w["lm_head.weight"] = rnd(V, D)
    return w


def activation(name, x):
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    raise ValueError(name)


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def conv1d(x, w, b):
    # transformers' Conv1D: x @ weight + bias with weight [in, out].
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).reshape(*x.shape[:-1], w.shape[1])


def forward(w, tokens, act, eps, tied):
    B, T = tokens.shape
    hd = D // H
    x = w["wte.weight"][tokens] + w["wpe.weight"][torch.arange(T)][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        h = f"h.{i}."
        a = layer_norm(x, w[h + "ln_1.weight"], w[h + "ln_1.bias"], eps)
        q, k, v = conv1d(a, w[h + "attn.c_attn.weight"], w[h + "attn.c_attn.bias"]).split(D, dim=2)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + conv1d(ctx, w[h + "attn.c_proj.weight"], w[h + "attn.c_proj.bias"])
        m = layer_norm(x, w[h + "ln_2.weight"], w[h + "ln_2.bias"], eps)
        m = activation(act, conv1d(m, w[h + "mlp.c_fc.weight"], w[h + "mlp.c_fc.bias"]))
        x = x + conv1d(m, w[h + "mlp.c_proj.weight"], w[h + "mlp.c_proj.bias"])
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    head = w["wte.weight"] if tied else w["lm_head.weight"]
    return x @ head.T


def make(out, name, act, ffn_config, tied, prefix, dtype, eps, shards, extra_config, seed, reference=True):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    ffn = ffn_config or 4 * D
    w = weights(ffn, tied, gen)
    stored = {k: v.to(dtype) for k, v in w.items()}
    # The reference reads the weights as stored (rounded to the file's dtype).
    ref_w = {k: v.to(torch.float64) for k, v in stored.items()}
    tokens = torch.randint(0, V, (2, P), generator=gen)
    logits = forward(ref_w, tokens, act, eps, tied) if reference else None
    short = forward(ref_w, tokens[:, :1], act, eps, tied) if reference else None

    named = {}
    for k, v in stored.items():
        named[k if k == "lm_head.weight" else prefix + k] = v
    if name == "tied":
        for i in range(L):  # the causal-mask buffers older GPT-2 files carry
            named[f"h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, P, P)).to(dtype)
    config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V,
              "n_positions": P, "n_ctx": P, "n_embd": D, "n_layer": L, "n_head": H,
              "n_inner": ffn_config, "activation_function": act, "layer_norm_epsilon": eps,
              "tie_word_embeddings": tied, "torch_dtype": str(dtype).replace("torch.", "")}
    config.update(extra_config)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_folder(folder, named, config, shards, tokens, logits, short)


def write_folder(folder, named, config, shards, tokens, logits, short):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), named, {"format": "pt"})
    else:
        names = list(named)
        cut = len(names) // 2
        parts = [names[:cut], names[cut:]]
        weight_map = {}
        for i, part in enumerate(parts):
            file = f"model-{i + 1:05d}-of-{len(parts):05d}.safetensors"
            write_safetensors(os.path.join(folder, file), {n: named[n] for n in part}, {"format": "pt"})
            weight_map.update({n: file for n in part})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)
    with open(os.path.join(folder, "tokens.json"), "w") as f:
        json.dump(tokens.tolist(), f)
    if logits is not None:
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump({"logits": logits.tolist(), "first": short.tolist()}, f)


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama_forward(w, tokens, c):
    """LlamaForCausalLM's forward in float64 from the weights `w` (names without "model.")."""
    B, T = tokens.shape
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or c["hidden_size"] // H
    eps = c["rms_norm_eps"]
    inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    angles = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    allowed = j <= i
    window = c.get("sliding_window") if c["model_type"] == "mistral" else None
    if window:
        allowed &= j > i - window

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = w["embed_tokens.weight"][tokens]
    for layer in range(c["num_hidden_layers"]):
        p = f"layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
        k = lin(h, p + "self_attn.k_proj").view(B, T, KV, hd).transpose(1, 2)
        v = lin(h, p + "self_attn.v_proj").view(B, T, KV, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        # repeat_kv: each key/value head serves H / KV consecutive query heads.
        k = k[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed, float("-inf"))
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + lin(ctx, p + "self_attn.o_proj")
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = lin(m, p + "mlp.gate_proj")
        x = x + lin(gate * torch.sigmoid(gate) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, w["norm.weight"], eps)
    head = w["embed_tokens.weight"] if c.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def make_llama(out, name, config, prefix, dtype, shards, seed, qkv_bias=False, o_bias=False, mlp_bias=False):
    gen = torch.Generator().manual_seed(seed)
    c = dict(config)
    Dm, Lm, Vm, F = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c["intermediate_size"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or Dm // H

    def rnd(*shape, std=0.3):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

    w = {"embed_tokens.weight": rnd(Vm, Dm)}
    for layer in range(Lm):
        p = f"layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + rnd(Dm, std=0.1)
        for proj, shape, bias in (("q_proj", (H * hd, Dm), qkv_bias), ("k_proj", (KV * hd, Dm), qkv_bias),
                                  ("v_proj", (KV * hd, Dm), qkv_bias), ("o_proj", (Dm, H * hd), o_bias)):
            w[p + "self_attn." + proj + ".weight"] = rnd(*shape)
            if bias:
                w[p + "self_attn." + proj + ".bias"] = rnd(shape[0], std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(Dm, std=0.1)
        for proj, shape in (("gate_proj", (F, Dm)), ("up_proj", (F, Dm)), ("down_proj", (Dm, F))):
            w[p + "mlp." + proj + ".weight"] = rnd(*shape)
            if mlp_bias:
                w[p + "mlp." + proj + ".bias"] = rnd(shape[0], std=0.1)
    w["norm.weight"] = 1 + rnd(Dm, std=0.1)
    if not c.get("tie_word_embeddings"):
        w["lm_head.weight"] = rnd(Vm, Dm)
    stored = {k: v.to(dtype) for k, v in w.items()}
    ref_w = {k: v.to(torch.float64) for k, v in stored.items()}
    tokens = torch.randint(0, Vm, (2, P), generator=gen)
    # The next-token NLL and its gradient with respect to layer 0's q_proj and the embedding.
    grad_w = {k: v.clone().requires_grad_(k in ("layers.0.self_attn.q_proj.weight", "embed_tokens.weight"))
              for k, v in ref_w.items()}
    out_logits = llama_forward(grad_w, tokens, c)
    nll = torch.nn.functional.cross_entropy(out_logits[:, :-1].reshape(-1, Vm), tokens[:, 1:].reshape(-1))
    nll.backward()
    logits = out_logits.detach()
    short = llama_forward(ref_w, tokens[:, :1], c)
    named = {(k if k == "lm_head.weight" else prefix + k): v for k, v in stored.items()}
    c["torch_dtype"] = str(dtype).replace("torch.", "")
    folder = os.path.join(out, name)
    write_folder(folder, named, c, shards, tokens, logits, short)
    with open(os.path.join(folder, "gradient.json"), "w") as f:
        json.dump({"nll": nll.item(), "q_proj": grad_w["layers.0.self_attn.q_proj.weight"].grad.tolist(),
                   "embed": grad_w["embed_tokens.weight"].grad.tolist()}, f)

out = sys.argv[1]
if len(sys.argv) > 2:
    import shutil
    V, D, H = 50257, 8, 2
    make(out, "gpt2vocab", "gelu_new", None, True, "transformer.", torch.float16, 1e-5, 1, {}, 4, reference=False)
    shutil.copy(os.path.join(sys.argv[2], "encoder.json"), os.path.join(out, "gpt2vocab", "vocab.json"))
    shutil.copy(os.path.join(sys.argv[2], "vocab.bpe"), os.path.join(out, "gpt2vocab", "merges.txt"))
    V, D, H = 50, 24, 3
make(out, "tied", "gelu_new", None, True, "", torch.float32, 1e-5, 1, {}, 1)
make(out, "untied", "gelu", 40, False, "transformer.", torch.float16, 1e-5, 1, {}, 2)
make(out, "sharded", "quick_gelu", None, True, "transformer.", torch.bfloat16, 1e-6, 2,
     {"_name_or_path": "example-org/tiny-gpt2"}, 3)

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 50, "hidden_size": 32,
         "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
         "max_position_embeddings": P, "rms_norm_eps": 1e-6, "hidden_act": "silu", "rope_theta": 10000.0,
         "rope_scaling": None, "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False}
make_llama(out, "llama-mqa", LLAMA, "model.", torch.float32, 1, 11)
make_llama(out, "llama-gqa", dict(LLAMA, num_key_value_heads=2, head_dim=6, rope_theta=500000.0,
                                  tie_word_embeddings=True, attention_bias=True, mlp_bias=True, rms_norm_eps=1e-5),
           "", torch.float16, 1, 12, qkv_bias=True, o_bias=True, mlp_bias=True)
make_llama(out, "qwen2-sharded", dict(LLAMA, model_type="qwen2", architectures=["Qwen2ForCausalLM"],
                                      num_key_value_heads=2, tie_word_embeddings=True, use_sliding_window=False,
                                      sliding_window=4096, _name_or_path="example-org/tiny-qwen2"),
           "model.", torch.bfloat16, 2, 13, qkv_bias=True)
make_llama(out, "mistral-window", dict(LLAMA, model_type="mistral", architectures=["MistralForCausalLM"],
                                       num_key_value_heads=2, sliding_window=5), "model.", torch.float32, 1, 14)

try:
    import sentencepiece
except ImportError:
    sentencepiece = None
if sentencepiece is not None:
    folder = os.path.join(out, "llama-sp")
    os.makedirs(folder, exist_ok=True)
    lines = os.path.join(out, "llama-sp-corpus.txt")
    with open(lines, "w", encoding="utf-8") as f:
        for i in range(200):
            f.write(f"Line {i}: the quick brown fox jumps over the lazy dog. Hello world, déjà vu!\n")
    sentencepiece.SentencePieceTrainer.train(
        input=lines, model_prefix=os.path.join(folder, "tokenizer"), vocab_size=400, model_type="bpe",
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        split_digits=True, character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    os.remove(os.path.join(folder, "tokenizer.vocab"))
    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
    # 12 rows more than the tokenizer has tokens, as models pad their embeddings (Qwen2).
    make_llama(out, "llama-sp", dict(LLAMA, vocab_size=sp.get_piece_size() + 12, max_position_embeddings=64),
               "model.", torch.float32, 1, 15)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
                   "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "legacy": False}, f)
    with open(os.path.join(folder, "hello.json"), "w") as f:
        json.dump(sp.encode("Hello world"), f)
