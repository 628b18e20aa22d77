"""What each process keeps in memory and shares with no other: verified remote keys, rendered
comment lists, page views not yet written, the community's look as last read. Imports nothing
from node/."""
