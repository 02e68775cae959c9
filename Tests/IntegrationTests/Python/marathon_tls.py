# SPDX-License-Identifier: Apache-2.0
"""marathon-python against a scheduler serving HTTPS: verify= the CA file, then a client trusting no such CA.

Usage: marathon_tls.py https://127.0.0.1:PORT CA_FILE
"""
import sys

from marathon import MarathonClient
from marathon.exceptions import MarathonError
from requests.exceptions import SSLError

url, ca = sys.argv[1], sys.argv[2]
client = MarathonClient([url], verify=ca)
assert client.ping().strip().strip(b'"' if isinstance(client.ping(), bytes) else '"') in ("pong", b"pong"), "ping"
print("ok: ping")
info = client.get_info()
assert info.name, "get_info"
print("ok: get_info")
apps = client.list_apps()
print("ok: list_apps %d" % len(apps))

untrusting = MarathonClient([url])  # the system's roots: the test CA is not among them
try:
    untrusting.list_apps()
    print("FAIL: a client without the CA was served")
    sys.exit(1)
except (MarathonError, SSLError) as error:
    print("ok: refused without the CA (%s)" % type(error).__name__)
print("ALL OK")
