"""The NAR ranker in PyTorch, for `nar bench train --python PYTHON`: the same model and sizes as nar's
engine (docs/design.md §5: post-norm encoder/decoder, five tier passes through the decoder as the reference runs
them), timed the same way on the CPU. Prints `step_ms <ms> infer_per_s <archs/s>`; with --infer-only,
`score_per_s <archs/s> full_per_s <archs/s>`: the score alone (encoder and accuracy head, as `nar bench infer`
times it) and the whole model, both under torch.inference_mode().

Usage: python bench/torch_ranker.py --size nb101|nb201 [--batch B] [--steps N] [--threads T] [--infer-only]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {
    # n_patch, d_patch, d_model, heads, d_k, ffn, tier_inner, val_inner, batch
    "nb101": (19, 7, 256, 4, 64, 1024, 2048, 2048, 256),
    "nb201": (31, 4, 128, 4, 32, 512, 256, 1024, 128),
}


def sinusoids(n, d):
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    j = torch.arange(d)
    angle = pos / torch.pow(10000.0, 2 * (j // 2) / d)
    table = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float().unsqueeze(0)


class Attention(nn.Module):
    """Multi-head attention, post-norm with a residual; parameter names as in NAR's `ranker/models.py`."""

    def __init__(self, d, h, dk, p):
        super().__init__()
        self.h, self.dk = h, dk
        self.w_qs = nn.Linear(d, h * dk, bias=False)
        self.w_ks = nn.Linear(d, h * dk, bias=False)
        self.w_vs = nn.Linear(d, h * dk, bias=False)
        self.fc = nn.Linear(h * dk, d, bias=False)
        self.drop = nn.Dropout(p)
        self.attn_drop = nn.Dropout(p)
        self.layer_norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, q_in, kv_in):
        b_q, lq, _ = q_in.shape
        b_k, lk, _ = kv_in.shape
        q = self.w_qs(q_in).view(b_q, lq, self.h, self.dk).transpose(1, 2)
        k = self.w_ks(kv_in).view(b_k, lk, self.h, self.dk).transpose(1, 2)
        v = self.w_vs(kv_in).view(b_k, lk, self.h, self.dk).transpose(1, 2)
        a = self.attn_drop(F.softmax(torch.matmul(q / math.sqrt(self.dk), k.transpose(2, 3)), dim=-1))
        o = torch.matmul(a, v).transpose(1, 2).contiguous().view(max(b_q, b_k), lq, -1)
        return self.layer_norm(self.drop(self.fc(o)) + q_in)


class FeedForward(nn.Module):
    def __init__(self, d, inner, p):
        super().__init__()
        self.w_1, self.w_2 = nn.Linear(d, inner), nn.Linear(inner, d)
        self.drop = nn.Dropout(p)
        self.layer_norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, x):
        return self.layer_norm(self.drop(self.w_2(F.relu(self.w_1(x)))) + x)


class EncoderLayer(nn.Module):
    def __init__(self, d, h, dk, ffn, p):
        super().__init__()
        self.slf_attn, self.pos_ffn = Attention(d, h, dk, p), FeedForward(d, ffn, p)


class DecoderLayer(nn.Module):
    def __init__(self, d, h, dk, ffn, p):
        super().__init__()
        self.slf_attn, self.enc_attn = Attention(d, h, dk, p), Attention(d, h, dk, p)
        self.pos_ffn = FeedForward(d, ffn, p)


class PositionalEncoding(nn.Module):
    """The reference's `PositionalEncoding`: the sinusoid table as a (persistent) buffer `pos_table`."""

    def __init__(self, d, n_position):
        super().__init__()
        self.register_buffer("pos_table", sinusoids(n_position, d))


class Stack(nn.Module):
    def __init__(self, layers, d, n_position):
        super().__init__()
        self.position_enc = PositionalEncoding(d, n_position)
        self.layer_stack = nn.ModuleList(layers)
        self.layer_norm = nn.LayerNorm(d, eps=1e-6)


class Ranker(nn.Module):
    """NAR's ranker with the reference `state_dict` names and shapes (those of nar's checkpoints and of
    `nar.Ranker.state_dict()`), the positional tables included (`{encoder,decoder}.position_enc.pos_table`)."""

    def __init__(self, n_patch, d_patch, d, h, dk, ffn, tier_inner, val_inner, layers=6, n_tier=5, p=0.1, n_position=200):
        super().__init__()
        self.n_patch, self.d = n_patch, d
        self.src_prj = nn.Linear(d_patch * d_patch, d)
        self.trg_prj = nn.Linear(d, d)
        self.drop = nn.Dropout(p)
        self.encoder = Stack([EncoderLayer(d, h, dk, ffn, p) for _ in range(layers)], d, n_position)
        self.decoder = Stack([DecoderLayer(d, h, dk, ffn, p) for _ in range(layers)], d, n_position)
        self.tier_prj = nn.Sequential(nn.Linear(n_patch * d, tier_inner, bias=False), nn.ReLU(), nn.Linear(tier_inner, n_tier))
        self.val_acc_prj = nn.Sequential(nn.Linear(n_patch * d, val_inner), nn.ReLU(), nn.Linear(val_inner, 1))
        for w in self.parameters():
            if w.dim() > 1:
                nn.init.xavier_uniform_(w)

    def encode(self, x):
        e = self.encoder.layer_norm(self.drop(self.src_prj(x)) + self.encoder.position_enc.pos_table[:, : self.n_patch])
        for layer in self.encoder.layer_stack:
            e = layer.pos_ffn(layer.slf_attn(e, e))
        return e

    def score(self, x):
        e = self.encode(x)
        return self.val_acc_prj(e.reshape(e.size(0), -1)).squeeze(1)

    def forward(self, x, tiers):
        e = self.encode(x)
        score = self.val_acc_prj(e.reshape(e.size(0), -1))
        t = self.trg_prj(tiers)
        total = torch.zeros_like(e)
        for i in range(t.size(0)):  # one decoder pass per tier, as the reference does
            y = self.decoder.layer_norm(self.drop(t[i : i + 1]) + self.decoder.position_enc.pos_table[:, : self.n_patch])
            for layer in self.decoder.layer_stack:
                y = layer.pos_ffn(layer.enc_attn(layer.slf_attn(y, y), e))
            total = total + y
        logits = self.tier_prj(total.reshape(total.size(0), -1)) * self.d**-0.5
        return logits, score.squeeze(1), e


def rate(f, batch):
    """Archs/s of f() on batches of `batch` for about three seconds, after one warm-up call."""
    f()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 3.0 or n < 2 * batch:
        f()
        n += batch
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=SIZES, default="nb201")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--infer-only", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n_patch, d_patch, d, h, dk, ffn, tier_inner, val_inner, batch = SIZES[a.size]
    batch = a.batch or batch
    m = Ranker(n_patch, d_patch, d, h, dk, ffn, tier_inner, val_inner)
    opt = torch.optim.AdamW(m.parameters(), betas=(0.9, 0.99), eps=1e-9, weight_decay=1e-2)
    x = torch.rand(batch, n_patch, d_patch * d_patch)
    tiers = torch.rand(5, n_patch, d) - 0.5
    if a.infer_only:
        m.eval()
        with torch.inference_mode():
            score = rate(lambda: m.score(x), batch)
            full = rate(lambda: m(x, tiers), batch)
        print(f"score_per_s {score:.1f} full_per_s {full:.1f}")
        return
    target = F.one_hot(torch.arange(batch) % 5, 5).float()
    acc = torch.rand(batch)
    times = []
    m.train()
    for step in range(a.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        logits, score, _ = m(x, tiers)
        ce = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
        diff = (score.unsqueeze(1) - score.unsqueeze(0)) * torch.sign(acc.unsqueeze(1) - acc.unsqueeze(0))
        rank = (F.softplus(-diff) * (1 - torch.eye(batch))).sum() / (batch * (batch - 1))
        (ce + rank).backward()
        opt.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    m.eval()
    n, t0 = 0, time.perf_counter()
    with torch.no_grad():
        while time.perf_counter() - t0 < 3.0 or n < 2 * batch:
            m(x, tiers)
            n += batch
    print(f"step_ms {times[len(times) // 2] * 1e3:.1f} infer_per_s {n / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
