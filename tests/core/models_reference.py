"""Independent forward pass of Distillery's built-in Transformer, written with plain PyTorch ops.
Usage: models_reference.py IN.pt OUT.txt
IN.pt is a pickled dict (torch.load) with the model's parameters under their C++ names, the shape
as 'shape' = [V, L, d, h, ffn, maxLen], the input tokens 'tokens' and the C++ logits 'logits'.
Writes the max abs difference between the two forward passes."""
import math, sys
import torch
import torch.nn.functional as F

def main():
    d = torch.load(sys.argv[1])
    V, L, D, H, FF, M = [int(x) for x in d['shape'].tolist()]
    tok = d['tokens']
    B, T = tok.shape
    x = d['tok.weight'][tok] + d['pos.weight'][torch.arange(T)]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(L):
        p = lambda n: d[f'block{i}.{n}']
        h = F.layer_norm(x, (D,), p('ln1.weight'), p('ln1.bias'))
        qkv = h @ p('qkv.weight').T + p('qkv.bias')
        q, k, v = qkv.view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        a = a.masked_fill(mask, float('-inf')).softmax(-1)
        ctx = (a @ v).transpose(1, 2).reshape(B, T, D)
        x = x + ctx @ p('proj.weight').T + p('proj.bias')
        h = F.layer_norm(x, (D,), p('ln2.weight'), p('ln2.bias'))
        h = F.gelu(h @ p('fc1.weight').T + p('fc1.bias'))
        x = x + h @ p('fc2.weight').T + p('fc2.bias')
    x = F.layer_norm(x, (D,), d['lnf.weight'], d['lnf.bias'])
    logits = x @ d['head.weight'].T
    diff = (logits - d['logits']).abs().max().item()
    with open(sys.argv[2], 'w') as f:
        f.write(f"{diff}\n")

if __name__ == '__main__':
    main()
