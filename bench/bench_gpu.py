"""GPU throughput: skrnn vs Keras ``model.fit`` vs a plain PyTorch ``nn.LSTM`` loop.

The issue's model: LSTM(128) -> Dense(10), N=16384 sequences of T=100 and T=1000 steps,
F=32 features, batch 256, all sequences of one length (so no mask: the fused cuDNN
kernels are allowed on every backend). Run it once per Keras backend, in one process per
backend, on the same machine; it prints samples/s per contestant and the ratios:

    KERAS_BACKEND=jax   python bench/bench_gpu.py
    KERAS_BACKEND=torch python bench/bench_gpu.py --torch-loop

``--n``/``--steps`` shrink it for a CPU smoke run. Each contestant trains one warm-up
epoch (compilation), then ``--epochs`` timed epochs.
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


def time_skrnn(X, y, args):
    from skrnn import RNNClassifier

    clf = RNNClassifier(units=128, epochs=1, batch_size=args.batch, random_state=0,
                        learning_rate=1e-3, warm_start=True)
    clf.fit(X, y)  # warm-up: build and compile
    start = time.perf_counter()
    clf.set_params(epochs=args.epochs).fit(X, y)
    return len(X) * args.epochs / (time.perf_counter() - start)


def time_keras_fit(X, y, args):
    import keras

    model = keras.Sequential([keras.Input(X.shape[1:]), keras.layers.LSTM(128),
                              keras.layers.Dense(10)])
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, batch_size=args.batch, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(X, y, batch_size=args.batch, epochs=args.epochs, verbose=0)
    return len(X) * args.epochs / (time.perf_counter() - start)


def time_torch_loop(X, y, args):
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(X.shape[2], 128, batch_first=True)
            self.head = torch.nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    net = Net().to(device)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)

    def epoch():
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
    parser.add_argument("--n", type=int, default=16384)
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--torch-loop", action="store_true",
                        help="also time the plain PyTorch nn.LSTM loop")
    args = parser.parse_args()
    import keras

    backend = keras.backend.backend()
    results = []
    for steps in args.steps:
        X, y = data(args.n, steps, args.features)
        row = {"backend": backend, "T": steps,
               "skrnn": time_skrnn(X, y, args), "keras_fit": time_keras_fit(X, y, args)}
        if args.torch_loop:
            row["torch_loop"] = time_torch_loop(X, y, args)
        row["skrnn/keras_fit"] = row["skrnn"] / row["keras_fit"]
        if "torch_loop" in row:
            row["skrnn/torch_loop"] = row["skrnn"] / row["torch_loop"]
        results.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                          for k, v in row.items()}), flush=True)
    return results


if __name__ == "__main__":
    main()
