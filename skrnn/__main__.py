"""``python -m skrnn info``: the versions and devices a bug report needs."""

import argparse

from ._show_versions import show_versions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skrnn")
    parser.add_argument("command", choices=["info"],
                        help="info: versions of skrnn, Keras, the backend and the other "
                             "dependencies, and the visible devices")
    parser.parse_args(argv)
    show_versions()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
