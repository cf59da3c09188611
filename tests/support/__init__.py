"""What the tests and the benchmarks (``bench/``) share: real server processes and
commands (``servers``), the outside services they need (``services``), a REST client
(``rest``), a Socket.IO client (``live``) and a browser network log (``network_log``)."""
