"""``python -m loupe`` is the ``loupe`` command."""

from loupe.cli import main

main()
