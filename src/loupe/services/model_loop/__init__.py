"""The model loop: predictions in, selection settings, retraining and promotion, the
serving champion, and label efficiency."""
