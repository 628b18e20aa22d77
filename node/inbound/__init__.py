"""Acting on what other servers send: the handler table and one handler per activity type, run by
the worker on activities the inbox stored. Above the domains, since each handler calls one."""
