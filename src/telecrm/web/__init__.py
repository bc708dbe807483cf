"""The web console and customer portal: server-rendered pages (Jinja2 + HTMX) over the
same services as the API, under ``/``; the API stays under ``/api``."""
