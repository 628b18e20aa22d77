"""The HTTP interface: every view and page, the inbox endpoint, discovery, CSRF guards, rate
limits and security headers. An interface: nothing else in node/ imports it."""
