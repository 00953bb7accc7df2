"""The product's URLs, plus the baseline the vote casting is measured against."""

from django.urls import path

from config.urls import urlpatterns as product

from . import views

urlpatterns = [path("bench/insert/", views.insert, name="bench-insert"), *product]
