"""Writes small TorchScript teachers for the loader tests.
Usage: make_torchscript_teachers.py OUTDIR VOCAB
  good.pt        forward(tokens) -> logits [B,T,V]
  tuple.pt       forward(tokens) -> (logits, hidden [B,T,16])
  wrong_rank.pt  forward(tokens) -> logits [B,V] (last position only)
  wrong_vocab.pt forward(tokens) -> logits [B,T,V+3]
  int_logits.pt  forward(tokens) -> int64 [B,T,V]
  raises.pt      forward(tokens) raises an error
  nan.pt         forward(tokens) -> logits [B,T,V], all NaN"""
import sys
import torch
import torch.nn as nn
from typing import Tuple

V = int(sys.argv[2])

class Good(nn.Module):
    def __init__(self, v: int):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.out = nn.Linear(16, v)
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(tokens))

class WithHidden(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.out = nn.Linear(16, V)
    def forward(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.emb(tokens)
        return self.out(h), h

class WrongRank(Good):
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(tokens))[:, -1, :]

class IntLogits(Good):
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(tokens)).long()

class Raises(Good):
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.size(1) > 0:
            raise RuntimeError("this teacher refuses to run")
        return self.out(self.emb(tokens))

class NanLogits(Good):
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(tokens)) * float("nan")

out = sys.argv[1]
torch.manual_seed(0)
torch.jit.script(Good(V)).save(f"{out}/good.pt")
torch.jit.script(WithHidden()).save(f"{out}/tuple.pt")
torch.jit.script(WrongRank(V)).save(f"{out}/wrong_rank.pt")
torch.jit.script(Good(V + 3)).save(f"{out}/wrong_vocab.pt")
torch.jit.script(IntLogits(V)).save(f"{out}/int_logits.pt")
torch.jit.script(Raises(V)).save(f"{out}/raises.pt")
torch.jit.script(NanLogits(V)).save(f"{out}/nan.pt")
