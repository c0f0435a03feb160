"""aichat_adapters: clients, transports, cookie sources, CLI and stub server."""
