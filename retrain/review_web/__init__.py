"""The review page: reviewers answer the review queue in a browser (``retrain review serve``)."""
