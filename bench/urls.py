"""The project's URLs plus the hand-written ceiling view (bench only)."""

from django.urls import path

from bench.ceiling import product_list
from commerce.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/ceiling/products/", product_list)]
