from django.urls import path

from bare_site import views

urlpatterns = [path("", views.page, name="page")]
