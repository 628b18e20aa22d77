"""What members are told: notifications recorded where things happen (the inbox, moderation,
offers), read on /notifications and by `conode notifications`. Low in the layers so that every
domain can record one; it needs nothing but the store."""
