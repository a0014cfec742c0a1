"""Segmentation maths: clustering customer features, naming segments, clustering customer texts."""
