"""The CDR domain: call detail records and their ratings (``models``), where they come
from (``sources``, ``formats``, ``imports``), their life and validation
(``lifecycle``), rating them (``rating_run``), reading them (``listing``, ``export``)
and the calls pushed to the CRM (``crm_sync``). ``routes`` is the domain's API,
``cli`` its ``telecrm cdr`` group."""
