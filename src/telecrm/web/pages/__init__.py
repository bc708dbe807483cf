"""One module per area of the console; each has its ``router`` and its templates in
``templates/<area>/``."""
