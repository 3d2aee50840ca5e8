"""moto_server answering one request at a time.

moto's own server runs each request on a thread, and its DynamoDB conditional writes check the
condition and then write without a lock: two concurrent conditional writes to one item can both
pass. Real DynamoDB serializes writes to an item, which the lease (invariant 3) relies on. Race
tests that need that atomicity start moto through this script (`startMoto({ serialized: true })`).

Usage: python3 moto_serial.py HOST PORT
"""

import os
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False, use_reloader=False)
