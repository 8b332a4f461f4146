"""Independent values and gradients of Distillery's distillation losses, in plain PyTorch.
Usage: losses_reference.py IN.json OUT.json

IN.json:  {"cases": [{"name", "kind", "config": {temperature, beta, alpha, label_smoothing,
           taid_t, top_k}, "N", "V", "D", "student", "teacher", "labels", "mask",
           "student_hidden", "teacher_hidden"}]}   (matrices flattened row-major)
OUT.json: {"results": [{"name", "value", "grad"}]}, grad = d loss / d student logits (or hidden),
          flattened. Everything in float64.

Written from the definitions (F.kl_div, F.cross_entropy with label_smoothing, explicit sums),
not from the C++ code. Convention: every divergence between tempered distributions is scaled by
tau^2; the loss is the masked mean sum_i m_i l_i / max(sum_i m_i, 1)."""
import json, math, sys
import torch
import torch.nn.functional as F

D64 = torch.float64


def kl(log_p, log_q):
    """Per-row KL(P || Q) from log-probabilities: F.kl_div(input=log Q, target=log P)."""
    return F.kl_div(log_q, log_p, reduction='none', log_target=True).sum(-1)


def mixture_log(w, log_p, log_q):
    """log(w P + (1-w) Q), computed on probabilities (independent of the C++ logsumexp)."""
    return torch.log(w * log_p.exp() + (1 - w) * log_q.exp())


def per_position(case, s, t, hs, ht):
    kind = case['kind']
    c = case['config']
    tau = c.get('temperature', 1.0)
    if kind == 'cross-entropy':
        labels = torch.tensor(case['labels'], dtype=torch.long)
        mask = torch.tensor(case['mask'], dtype=D64)
        labels = torch.where(mask != 0, labels, torch.zeros_like(labels))
        return F.cross_entropy(s, labels, reduction='none',
                               label_smoothing=c.get('label_smoothing', 0.0))
    if kind == 'logit-mse':
        return ((s - t) ** 2).mean(-1)
    if kind == 'hidden-mse':
        return ((hs - ht) ** 2).mean(-1)
    if kind == 'hidden-cosine':
        return 1 - F.cosine_similarity(hs, ht, dim=-1)

    ls = F.log_softmax(s / tau, -1)
    lt = F.log_softmax(t / tau, -1)
    scale = tau * tau
    if kind == 'forward-kl':
        return scale * kl(lt, ls)
    if kind == 'reverse-kl':
        return scale * kl(ls, lt)
    if kind == 'gjsd':
        b = c['beta']
        if b == 0:
            return scale * kl(lt, ls)
        if b == 1:
            return scale * kl(ls, lt)
        lm = mixture_log(b, lt, ls)
        return scale * (b * kl(lt, lm) + (1 - b) * kl(ls, lm))
    if kind == 'skew-kl':
        a = c['alpha']
        return scale * kl(lt, mixture_log(a, lt, ls))
    if kind == 'skew-reverse-kl':
        a = c['alpha']
        return scale * kl(ls, mixture_log(a, ls, lt))
    if kind == 'tvd':
        return scale * 0.5 * (lt.exp() - ls.exp()).abs().sum(-1)
    if kind == 'taid':
        tt = c['taid_t']
        target = F.log_softmax(((1 - tt) * s.detach() + tt * t) / tau, -1)
        return scale * kl(target, ls)
    if kind == 'topk-kl':
        k = int(c['top_k'])
        V = s.shape[-1]
        idx = torch.topk(t, k, dim=-1).indices  # same order as the tempered log-probs
        inside = torch.zeros_like(s, dtype=torch.bool).scatter(-1, idx, True)
        pt, ps = lt.exp(), ls.exp()
        # Buckets: the k tokens, then one bucket with the rest of the mass.
        bt = torch.cat([pt.gather(-1, idx), (pt * ~inside).sum(-1, keepdim=True)], -1)
        bs = torch.cat([ps.gather(-1, idx), (ps * ~inside).sum(-1, keepdim=True)], -1)
        if k == V:
            bt, bs = bt[:, :k], bs[:, :k]
        terms = torch.where(bt > 0, bt * (bt.log() - bs.log()), torch.zeros_like(bt))
        return scale * terms.sum(-1)
    raise ValueError('unknown kind ' + kind)


def evaluate(case):
    N, V, D = case['N'], case.get('V', 0), case.get('D', 0)
    hidden = case['kind'].startswith('hidden')
    s = t = hs = ht = None
    if hidden:
        hs = torch.tensor(case['student_hidden'], dtype=D64).view(N, D).requires_grad_(True)
        ht = torch.tensor(case['teacher_hidden'], dtype=D64).view(N, D)
        leaf = hs
    else:
        s = torch.tensor(case['student'], dtype=D64).view(N, V).requires_grad_(True)
        if case.get('teacher'):
            t = torch.tensor(case['teacher'], dtype=D64).view(N, V)
        leaf = s
    mask = torch.tensor(case['mask'], dtype=D64)
    l = per_position(case, s, t, hs, ht)
    l = torch.where(mask != 0, l, torch.zeros_like(l))
    loss = (mask * l).sum() / max(mask.sum().item(), 1.0)
    loss.backward()
    return {'name': case['name'], 'value': loss.item(), 'grad': leaf.grad.reshape(-1).tolist()}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)['cases']
    out = {'results': [evaluate(c) for c in cases], 'torch': torch.__version__}
    with open(sys.argv[2], 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
