"""Cache: the golden-record lookup cache in Redis, its writer and its reader.

The key layout and value formats, for readers in any language, are in
docs/cache.md and :mod:`lifeline.cache.keys`.
"""

from lifeline.cache.client import Retrier, build_client
from lifeline.cache.errors import (
    CacheAccessError,
    CacheDataError,
    CacheUnavailableError,
)
from lifeline.cache.keys import CacheKeys, email_hash
from lifeline.cache.reader import CacheReader, GoldenRecord
from lifeline.cache.updates import ApplyResult, CacheUpdate, Delete, Merge, Upsert
from lifeline.cache.writer import GoldenCacheWriter

__all__ = [
    "ApplyResult",
    "CacheAccessError",
    "CacheDataError",
    "CacheKeys",
    "CacheReader",
    "CacheUnavailableError",
    "CacheUpdate",
    "Delete",
    "GoldenCacheWriter",
    "GoldenRecord",
    "Merge",
    "Retrier",
    "Upsert",
    "build_client",
    "email_hash",
]
