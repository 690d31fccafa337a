from django.urls import path

from veche.apps.federation import views

app_name = "federation"

urlpatterns = [
    path("federation/", views.overview, name="overview"),
    path("federation/rules/", views.rules, name="rules"),
    path("federation/rules/charter-<int:number>.json", views.charter_json, name="charter_json"),
    path("join/<str:secret>/", views.join, name="join"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("groups/<int:group_id>/invite/", views.invite, name="invite"),
    path(
        "groups/<int:group_id>/members/<int:member_id>/remove/",
        views.remove_member,
        name="remove_member",
    ),
]
