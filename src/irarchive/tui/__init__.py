"""The interactive browser (``irarchive browse``), built with Textual.

Imported only by the ``browse`` command, so no other command pays for Textual.
One module per widget or screen; ``app`` puts them together; ``source`` is the one
place that talks to the archive (through the same library as the CLI).
"""

#: Frames a second Textual may draw (its ``TEXTUAL_FPS``, read when Textual is first
#: imported; its default is 60). A keystroke draws its echo at once and its results
#: a search later, and Textual draws at most one frame a period: at 60 the results
#: often waited for the rest of a 16.7 ms period (p95 18 ms on a million articles),
#: at 120 for 5 ms. Frames are drawn only when something changed, so no more of
#: them are drawn.
FRAMES_PER_SECOND = 120
