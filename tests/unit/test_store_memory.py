"""The store contract on the in-memory store (the one the service unit tests run on)."""

import pytest

from chalicelib.store.base import Store
from chalicelib.store.memory import MemoryStore
from tests.contract.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()
