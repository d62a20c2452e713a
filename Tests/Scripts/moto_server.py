"""moto's S3 server, with one fix to its signature check, for mlv's tests.

moto rebuilds each request's URL with percent-escapes in the query decoded ('%2F' becomes
'/') and hands it to botocore's signer, which takes the query string as it is. S3 itself
canonicalises the decoded query (every name and value percent-encoded, '/' as %2F, sorted),
so a correctly signed request with a '/' in a query value - every ListObjectsV2 with a
prefix - fails moto's check while AWS accepts it. Here moto canonicalises the way S3 does;
everything else in its signature check is unchanged.

Usage: python moto_server.py [moto_server arguments]
"""
import sys
from urllib.parse import parse_qsl, quote

import botocore.auth


def canonical_query(self, parts):
    pairs = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


botocore.auth.SigV4Auth._canonical_query_string_url = canonical_query

from moto.server import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
