"""The interactive browser (``irarchive browse``), built with Textual.

Imported only by the ``browse`` command, so no other command pays for Textual.
One module per widget or screen; ``app`` puts them together; ``source`` is the one
place that talks to the archive (through the same library as the CLI).
"""
