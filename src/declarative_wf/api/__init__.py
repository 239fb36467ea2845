"""The server: definitions registry, one service layer, and its HTTP and gRPC adapters.

* :mod:`.registry` - submitted definitions by name, version and content hash (SQLite);
* :mod:`.service` - every operation of both APIs and the CLI, with Dapr's error codes;
* :mod:`.http` (+ :mod:`.openapi`) and :mod:`.grpc_api` - thin adapters;
* :mod:`.workers` - the interpreter under every definition's name;
* :mod:`.server` - ``dwf serve``; :mod:`.remote` - a Python client of the HTTP API.

Submodules are imported on use, so a client (``remote``) does not load the server's stack.
See docs/api.md.
"""
