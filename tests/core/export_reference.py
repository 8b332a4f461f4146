"""Checks an exported student in consumers that are not Distillery.

usage: export_reference.py REFERENCE.json

REFERENCE.json (written by tst_Export) holds the token ids fed to the student and the logits
Distillery computed for them, and names the exported folders to check:
  {"node": NODE, "node_modules": DIR,
   "cases": [{"kind": "hf" | "torchscript" | "onnx", "path": ..., "tokens": [[...]],
              "logits": [[[...]]], "tolerance": 1e-5, "tokenizer": "bytes" | "words", "vocab": V,
              "external": true (onnx only: the weights must be external data)}]}

hf: an independent NumPy implementation of Hugging Face's GPT2LMHeadModel forward pass
(modeling_gpt2.py's semantics: Conv1D weights [in, out], fused c_attn split into q, k, v,
causal softmax attention scaled by 1/sqrt(head_dim), the configured activation and LayerNorm
epsilon, lm_head or the tied wte), reading model.safetensors with its own parser of the format,
and the tokenizer files checked against GPT-2's byte-to-character table or the t0..tV-1 words;
for model_type llama (LlamaForCausalLM, modeling_llama.py's semantics) an independent NumPy
forward with RMSNorm, rotate-half rotary positions from rope_theta, repeat_kv grouped-query
attention over num_key_value_heads and SwiGLU.
torchscript: torch.jit.load and its forward.
onnx: onnx.checker (full check, opset 17, the input's dynamic dimensions), then onnxruntime-node
(npm) through onnx_run.js.
Exits non-zero with the first disagreement.
"""

import json
import math
import struct
import sys

import numpy as np


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if (8 + n) % 8 != 0:
        fail(f"{path}: the data does not start 8-byte aligned (header length {n})")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    if meta.get("format") != "pt":
        fail(f"{path}: __metadata__ is {meta}, expected format pt")
    body = data[8 + n :]
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    position = 0
    for begin, end, name in spans:
        if begin != position:
            fail(f"{path}: tensor {name} starts at {begin}, expected {position} (gap or overlap)")
        position = end
    if position != len(body):
        fail(f"{path}: the tensors cover {position} of {len(body)} data bytes")
    tensors = {}
    for name, v in header.items():
        begin, end = v["data_offsets"]
        raw = body[begin:end]
        if v["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif v["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2")
        elif v["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            fail(f"{path}: tensor {name} has dtype {v['dtype']}")
        if a.size != int(np.prod(v["shape"])):
            fail(f"{path}: tensor {name} holds {a.size} values for shape {v['shape']}")
        tensors[name] = a.astype(np.float64).reshape(v["shape"])
    return tensors


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def activation(name, x):
    if name == "gelu":  # the exact form, erf
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    if name == "gelu_new":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    fail(f"activation_function {name} is not implemented here")


def gpt2_logits(folder, tokens):
    with open(folder + "/config.json") as f:
        config = json.load(f)
    if config["model_type"] != "gpt2" or config["architectures"] != ["GPT2LMHeadModel"]:
        fail(f"{folder}/config.json: not a GPT2LMHeadModel")
    w = read_safetensors(folder + "/model.safetensors")
    prefix = "transformer." if "transformer.wte.weight" in w else ""
    D, H, L = config["n_embd"], config["n_head"], config["n_layer"]
    eps = config["layer_norm_epsilon"]
    hd = D // H
    tokens = np.asarray(tokens)
    B, T = tokens.shape
    if T > config["n_positions"]:
        fail("more tokens than n_positions")
    x = w[prefix + "wte.weight"][tokens] + w[prefix + "wpe.weight"][np.arange(T)][None]
    causal = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(L):
        p = f"{prefix}h.{i}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # Conv1D: [in, out]
        q, k, v = np.split(qkv, 3, axis=-1)
        heads = lambda t: t.reshape(B, T, H, hd).transpose(0, 2, 1, 3)
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(0, 1, 3, 2)
        if config.get("scale_attn_weights", True):
            scores = scores / math.sqrt(hd)
        scores = scores + causal
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        ctx = (attn @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
        x = x + ctx @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = activation(config["activation_function"], h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w[prefix + "ln_f.weight"], w[prefix + "ln_f.bias"], eps)
    tied = config.get("tie_word_embeddings", True)
    if tied and "lm_head.weight" in w:
        fail("tie_word_embeddings is true but lm_head.weight is stored")
    if not tied and "lm_head.weight" not in w:
        fail("tie_word_embeddings is false and lm_head.weight is missing")
    head = w[prefix + "wte.weight"] if tied else w["lm_head.weight"]
    return x @ head.T


def llama_logits(folder, tokens):
    with open(folder + "/config.json") as f:
        c = json.load(f)
    if c["model_type"] != "llama" or c["architectures"] != ["LlamaForCausalLM"]:
        fail(f"{folder}/config.json: not a LlamaForCausalLM")
    if c.get("rope_scaling") is not None or c.get("hidden_act") != "silu":
        fail(f"{folder}/config.json: rope_scaling or hidden_act not implemented here")
    w = read_safetensors(folder + "/model.safetensors")
    H, KV, L = c["num_attention_heads"], c["num_key_value_heads"], c["num_hidden_layers"]
    hd = c.get("head_dim") or c["hidden_size"] // H
    eps = c["rms_norm_eps"]
    tokens = np.asarray(tokens)
    B, T = tokens.shape
    if T > c["max_position_embeddings"]:
        fail("more tokens than max_position_embeddings")
    inv = 1.0 / (c["rope_theta"] ** (np.arange(0, hd, 2) / hd))
    angles = np.arange(T)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([angles, angles], -1)), np.sin(np.concatenate([angles, angles], -1))

    def rms(x, weight):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * weight

    def rope(x):
        half = hd // 2
        return x * cos + np.concatenate([-x[..., half:], x[..., :half]], -1) * sin

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = w["model.embed_tokens.weight"][tokens]
    causal = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = rope(lin(h, p + "self_attn.q_proj").reshape(B, T, H, hd).transpose(0, 2, 1, 3))
        k = rope(lin(h, p + "self_attn.k_proj").reshape(B, T, KV, hd).transpose(0, 2, 1, 3))
        v = lin(h, p + "self_attn.v_proj").reshape(B, T, KV, hd).transpose(0, 2, 1, 3)
        k, v = np.repeat(k, H // KV, axis=1), np.repeat(v, H // KV, axis=1)  # head j reads kv head j // (H / KV)
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + causal
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        x = x + lin((attn @ v).transpose(0, 2, 1, 3).reshape(B, T, H * hd), p + "self_attn.o_proj")
        m = rms(x, w[p + "post_attention_layernorm.weight"])
        gate = lin(m, p + "mlp.gate_proj")
        x = x + lin(gate / (1.0 + np.exp(-gate)) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, w["model.norm.weight"])
    tied = c.get("tie_word_embeddings", False)
    if tied == ("lm_head.weight" in w):
        fail(f"{folder}: tie_word_embeddings is {tied} but lm_head.weight is {'' if tied else 'not '}stored")
    return x @ (w["model.embed_tokens.weight"] if tied else w["lm_head.weight"]).T


def bytes_to_unicode():
    """GPT-2's table, from its published definition."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def check_tokenizer(folder, kind, vocab_size):
    with open(folder + "/tokenizer.json", encoding="utf-8") as f:
        tok = json.load(f)
    with open(folder + "/tokenizer_config.json") as f:
        cfg = json.load(f)
    if cfg["tokenizer_class"] != "PreTrainedTokenizerFast":
        fail("tokenizer_config.json: tokenizer_class " + cfg["tokenizer_class"])
    model = tok["model"]
    if kind == "bytes":
        table = bytes_to_unicode()
        expected = {table[b]: b for b in range(256)}
        if model["type"] != "BPE" or model["merges"] != [] or model["vocab"] != expected:
            fail("tokenizer.json: not a byte-level BPE without merges over GPT-2's table")
        if tok["pre_tokenizer"]["type"] != "ByteLevel" or tok["decoder"]["type"] != "ByteLevel":
            fail("tokenizer.json: pre-tokenizer or decoder is not ByteLevel")
        text = "héllo, wörld\n\x00\xff".encode("utf-8")
        ids = [model["vocab"][table[b]] for b in text]
        if ids != list(text):
            fail("byte-level ids are not the bytes")
    else:
        expected = {f"t{i}": i for i in range(vocab_size)}
        if model["type"] != "WordLevel" or model["vocab"] != expected:
            fail("tokenizer.json: not a word-level vocabulary t0..t{vocab_size - 1}")
        if model["unk_token"] in model["vocab"]:
            fail("tokenizer.json: the unknown token is in the vocabulary")


def onnx_logits(path, tokens, node, node_modules, external):
    """onnx.checker (python3-onnx), then the model in onnxruntime-node. external: every
    initializer of 1 KiB or more must live in model.onnx.data (ONNX's external data)."""
    import os
    import subprocess
    import tempfile

    import onnx

    if external:
        bare = onnx.load(path, load_external_data=False)
        big = [t for t in bare.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        if not big or any(e.key == "location" and e.value != "model.onnx.data"
                          for t in big for e in t.external_data):
            fail(f"{path}: expected the weights as external data in model.onnx.data")
        onnx.checker.check_model(path, full_check=True)  # by path: the checker reads the data file
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    if model.opset_import[0].version != 17:
        fail(f"{path}: opset {model.opset_import[0].version}, expected 17")
    inputs = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    if inputs != [("input_ids", ["batch", "sequence"])]:
        fail(f"{path}: inputs {inputs}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(tokens, f)
    try:
        env = dict(os.environ, NODE_PATH=node_modules)
        run = subprocess.run([node, os.path.join(os.path.dirname(__file__), "onnx_run.js"), path, f.name],
                             capture_output=True, text=True, env=env, timeout=300)
    finally:
        os.unlink(f.name)
    if run.returncode != 0:
        fail(f"{path}: onnxruntime-node: {run.stderr.strip()}")
    out = json.loads(run.stdout)
    return np.asarray(out["logits"], dtype=np.float64).reshape(out["dims"])


def main():
    with open(sys.argv[1]) as f:
        reference = json.load(f)
    for case in reference["cases"]:
        expected = np.asarray(case["logits"], dtype=np.float64)
        if case["kind"] == "hf":
            with open(case["path"] + "/config.json") as f:
                model_type = json.load(f)["model_type"]
            got = (llama_logits if model_type == "llama" else gpt2_logits)(case["path"], case["tokens"])
            check_tokenizer(case["path"], case["tokenizer"], case["vocab"])
        elif case["kind"] == "onnx":
            got = onnx_logits(case["path"] + "/model.onnx", case["tokens"], reference["node"], reference["node_modules"],
                              case.get("external", False))
        else:
            import torch

            module = torch.jit.load(case["path"] + "/model.pt")
            with torch.no_grad():
                got = module(torch.tensor(case["tokens"], dtype=torch.long)).double().numpy()
        if got.shape != expected.shape:
            fail(f"{case['path']}: logits of shape {got.shape}, Distillery's {expected.shape}")
        diff = float(np.abs(got - expected).max())
        if not diff <= case["tolerance"]:
            fail(f"{case['path']} ({case['kind']}, {len(case['tokens'][0])} tokens): max |Δ logits| = "
                 f"{diff:.3g} > {case['tolerance']}")
        print(f"{case['kind']} {case['path']} T={len(case['tokens'][0])}: max |Δ| {diff:.2e}")


if __name__ == "__main__":
    main()
