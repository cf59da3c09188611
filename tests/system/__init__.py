"""System tests: real gunicorn processes on PostgreSQL, with Redis, and the board in Chromium
(markers ``server`` and ``browser``)."""
