from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    # No models (the Review model is the catalog's): an app so that its
    # admin.py, the moderation page, is found.
    name = "apps.reviews"
    label = "reviews"
    verbose_name = "Reviews"
