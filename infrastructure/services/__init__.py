"""Application services: the one write pipeline and every command built on it.

Ingestion, the poller, bootstrap, rebuild, resync, verify, migrations, the analytics
import and the status. Each receives the ports and adapters it uses in its constructor
from the composition root; none imports the root or an entry point.
"""
