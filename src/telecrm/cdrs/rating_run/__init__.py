"""The rating run (``process-billing``): the calls of a window rated a day at a time,
only the ratings that change written back."""
