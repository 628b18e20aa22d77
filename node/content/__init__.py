"""Posts and comments: publishing reports and blog posts, members' replies, threads, HTML and
Markdown made safe, images and documents, feeds. Imports storage, moderation and federation."""
