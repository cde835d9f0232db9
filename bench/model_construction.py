"""Measure what a `kubernetes` client model costs with and without a shared Configuration.

Each model constructor deep-copies the client's default `Configuration` unless it is given
one. This times `V1EnvVar` both ways and prints the cost per model. The injection core
builds its models with one shared configuration (`injection/models.py`).

    python bench/model_construction.py [--number N]
"""

from __future__ import annotations

import argparse
import timeit

from kubernetes.client import Configuration
from kubernetes.client import models as k8s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="models built per timing run")
    args = parser.parse_args()

    shared = Configuration()

    def with_default() -> None:
        k8s.V1EnvVar(name="VAULT_ADDR", value="https://vault.vault.svc:8200")

    def with_shared() -> None:
        k8s.V1EnvVar(name="VAULT_ADDR", value="https://vault.vault.svc:8200", local_vars_configuration=shared)

    # The best of five runs: the least disturbed by other work on the machine.
    default_seconds = min(timeit.repeat(with_default, number=args.number, repeat=5)) / args.number
    shared_seconds = min(timeit.repeat(with_shared, number=args.number, repeat=5)) / args.number
    print(f"models per run:                 {args.number}")
    print(f"default Configuration (copied): {default_seconds * 1e6:.2f} us per model")
    print(f"shared Configuration:           {shared_seconds * 1e6:.2f} us per model")
    print(f"ratio (default / shared):       {default_seconds / shared_seconds:.1f}")


if __name__ == "__main__":
    main()
