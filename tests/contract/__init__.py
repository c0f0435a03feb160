"""The transport contract: the same end-to-end scenarios over every transport and event loop."""
