"""GPU throughput: skrnn vs Keras ``model.fit`` vs a plain PyTorch ``nn.LSTM`` loop.

Two cases (issue 13), run once per Keras backend, in one process per backend, on the
same machine; each prints samples/s per contestant and the ratios, one JSON line per
size:

- equal lengths (``--lengths equal``, the default): LSTM(128) -> Dense(10),
  N=16384 sequences of T=100 and T=1000 steps, F=32 features; no mask.
- variable lengths (``--lengths lognormal``): N=8192 sequences of lognormal lengths
  within 10-1000 (mean about 123), F=32, LSTM(128) -> Dense(2). Keras ``fit`` gets the
  data padded to the longest sequence behind a ``Masking`` layer (what a Keras user
  does); the PyTorch loop gets length-bucketed batches as packed sequences
  (``pack_padded_sequence``), as skrnn buckets its batches.

    KERAS_BACKEND=jax   python bench/bench_gpu.py --torch-loop --batch 256 1024
    KERAS_BACKEND=jax   python bench/bench_gpu.py --lengths lognormal --torch-loop
    KERAS_BACKEND=torch python bench/bench_gpu.py --torch-loop

``--batch`` takes several sizes (a sweep); ``--n``/``--steps`` shrink it for a CPU
smoke run. Each contestant trains one warm-up epoch (compilation), then ``--epochs``
timed epochs. skrnn's network is the same LSTM (``conv_filters=None``: the default
adds the LSTM-FCN front-end to series with one target each); set
``SKRNN_FUSED_KERNELS=off`` to time Keras' own recurrent loops inside skrnn, and
``--hold off`` to pad every batch on the host instead of cutting it from the training
set kept on the device (``auto``, the default, holds it on an accelerator).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def data(n, steps, features, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, steps, features).astype("float32")
    y = (X[:, :, 0].mean(axis=1) > 0).astype("int64") + 2 * (X[:, -1, 1] > 0)
    return X, y


def ragged_data(n, features, seed=0, low=10, high=1000, mean=123):
    """Lognormal lengths (sigma 1) clipped to [low, high], mean about ``mean``."""
    rng = np.random.RandomState(seed)
    lengths = np.clip(rng.lognormal(np.log(mean) - 0.5, 1.0, n), low, high).astype(int)
    X = [rng.randn(t, features).astype("float32") for t in lengths]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


def padded(X):
    out = np.zeros((len(X), max(len(x) for x in X), X[0].shape[1]), np.float32)
    for i, x in enumerate(X):
        out[i, :len(x)] = x
    return out


def time_skrnn(X, y, args):
    from skrnn import RNNClassifier

    # The network: no convolutional front-end (the default adds one to series
    # with one target each), the same optimizer as the others.
    clf = RNNClassifier(units=128, conv_filters=None, epochs=1, batch_size=args.batch,
                        random_state=0, learning_rate=1e-3, warm_start=True)
    clf.fit(X, y)  # warm-up: build and compile
    start = time.perf_counter()
    clf.set_params(epochs=args.epochs).fit(X, y)
    return len(X) * args.epochs / (time.perf_counter() - start)


def time_keras_fit(X, y, args):
    import keras

    ragged = isinstance(X, list)
    if ragged:
        X = padded(X)
    model = keras.Sequential([keras.Input(X.shape[1:])]
                             + [keras.layers.Masking(0.0)] * ragged
                             + [keras.layers.LSTM(128), keras.layers.Dense(int(y.max()) + 1)])
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, batch_size=args.batch, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(X, y, batch_size=args.batch, epochs=args.epochs, verbose=0)
    return len(X) * args.epochs / (time.perf_counter() - start)


def time_torch_loop(X, y, args):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    device = "cuda" if torch.cuda.is_available() else "cpu"
    ragged = isinstance(X, list)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(X[0].shape[-1], 128, batch_first=True)
            self.head = torch.nn.Linear(128, int(y.max()) + 1)

        def forward(self, x, lengths=None):
            if lengths is None:
                return self.head(self.lstm(x)[0][:, -1])
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            return self.head(self.lstm(packed)[1][0][0])

    net = Net().to(device)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    yt = torch.from_numpy(y).to(device)
    if ragged:  # batches of similar lengths (sorted, then shuffled), padded, packed
        lengths = np.array([len(x) for x in X])
        order = np.argsort(lengths, kind="stable")
        batches = [order[i:i + args.batch] for i in range(0, len(X), args.batch)]
        Xp = [torch.from_numpy(padded([X[i] for i in b])).to(device) for b in batches]
        Lp = [torch.from_numpy(lengths[b]) for b in batches]
    else:
        Xt = torch.from_numpy(X).to(device)

    def epoch():
        if ragged:
            for j in np.random.permutation(len(batches)):
                opt.zero_grad()
                out = net(Xp[j], Lp[j])
                torch.nn.functional.cross_entropy(out, yt[batches[j]]).backward()
                opt.step()
        else:
            for i in torch.randperm(len(X), device=device).split(args.batch):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(Xt[i]), yt[i]).backward()
                opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    epoch()
    start = time.perf_counter()
    for _ in range(args.epochs):
        epoch()
    return len(X) * args.epochs / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", choices=["equal", "lognormal"], default="equal")
    parser.add_argument("--n", type=int, default=None,
                        help="sequences (default 16384 equal, 8192 lognormal)")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--batch", type=int, nargs="+", default=[256])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--torch-loop", action="store_true",
                        help="also time the plain PyTorch nn.LSTM loop")
    parser.add_argument("--skip-keras", action="store_true",
                        help="leave Keras fit out (it is slow on long padded data)")
    parser.add_argument("--hold", choices=["auto", "on", "off"], default="auto",
                        help="skrnn: the training set kept on the device")
    args = parser.parse_args()
    import keras

    from skrnn.training._step import Step

    Step.keep_on_device = {"auto": None, "on": True, "off": False}[args.hold]

    backend = keras.backend.backend()
    if args.lengths == "lognormal":
        sets = [("lognormal", ragged_data(args.n or 8192, args.features))]
    else:
        sets = [(steps, data(args.n or 16384, steps, args.features)) for steps in args.steps]
    results, batch_sizes = [], args.batch
    for steps, (X, y) in sets:
        for batch in batch_sizes:
            args.batch = batch  # what the contestants read
            row = {"backend": backend, "device": device_name(), "T": steps, "batch": batch,
                   "hold": args.hold, "skrnn": time_skrnn(X, y, args)}
            if not args.skip_keras:
                row["keras_fit"] = time_keras_fit(X, y, args)
                row["skrnn/keras_fit"] = row["skrnn"] / row["keras_fit"]
            if args.torch_loop:
                row["torch_loop"] = time_torch_loop(X, y, args)
                row["skrnn/torch_loop"] = row["skrnn"] / row["torch_loop"]
            results.append(row)
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                              for k, v in row.items()}), flush=True)
    return results


def device_name() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.devices()[0].device_kind
    if keras.backend.backend() == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return "cpu"


if __name__ == "__main__":
    main()
