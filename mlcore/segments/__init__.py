"""Named customer segments: K-means and text-embedding segmentations, memberships and their moves."""
