"""What each process keeps in memory and shares with no other: verified remote keys, rendered
comment lists, page views not yet written. Imports nothing from node/."""
