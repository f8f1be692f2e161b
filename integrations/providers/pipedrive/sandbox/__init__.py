"""A Pipedrive stand-in for tests and demos: v2 (and v1 users) endpoints, cursor pagination,
token auth, rate limits, injectable faults and deterministic seeded accounts."""

from .core import DEFAULT_TOKEN, Sandbox, SandboxRouter, dataset_token
from .faults import Faults
from .seed import DATASETS

__all__ = ["DATASETS", "DEFAULT_TOKEN", "Faults", "Sandbox", "SandboxRouter", "dataset_token"]
