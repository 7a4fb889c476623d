"""What the system tiers (``tests/e2e``, ``tests/faults``) and ``make bench`` share: the
processes of the system, started and stopped for real, and a TCP proxy to put faults between
them and their backends."""
