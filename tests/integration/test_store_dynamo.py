"""The store contract on DynamoDB: PynamoDB and botocore against DynamoDB Local over HTTP."""

import pytest

from chalicelib import providers
from chalicelib.store.base import Store
from chalicelib.store.dynamo import DynamoStore
from tests.contract.store_contract import StoreContract

pytestmark = pytest.mark.integration


class TestDynamoStore(StoreContract):
    @pytest.fixture
    def store(self, ddb_local: str) -> Store:
        return DynamoStore(providers.settings())
