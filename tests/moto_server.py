"""Starts moto's server (same arguments as `moto_server`) with DynamoDB made atomic the way DynamoDB is.

moto applies a transaction's writes one by one and, when one fails, restores a copy of every table it
touches taken before it began. Run beside another request, that restore erases whatever the other
request committed meanwhile, and its partial writes are visible to readers until then. DynamoDB does
neither. Here each DynamoDB operation holds one lock for its whole run, so concurrent requests (the
idempotency twins, the race tests) see what they would see on AWS. S3 and KMS are untouched.
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_ONE_AT_A_TIME = threading.RLock()

_OPERATIONS = (
    "create_table",
    "delete_table",
    "update_table",
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)


def _atomic(operation):
    @functools.wraps(operation)
    def run(*args, **kwargs):
        with _ONE_AT_A_TIME:
            return operation(*args, **kwargs)

    return run


for _name in _OPERATIONS:
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    sys.exit(main())
