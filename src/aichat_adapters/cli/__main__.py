"""``python -m aichat_adapters.cli``: the ``aichat`` command."""

from aichat_adapters.cli import main

main()
