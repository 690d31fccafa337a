from django.urls import path

from veche.apps.proposals import meeting_pack, views

app_name = "proposals"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("proposals/", views.proposal_list, name="list"),
    path("proposals/new/", views.proposal_new, name="new"),
    path("proposals/new/charter/", views.new_charter, name="new_charter"),
    path("proposals/new/group-rules/", views.new_group_rules, name="new_group_rules"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("proposals/<int:proposal_id>/respond/", views.respond, name="respond"),
    path("proposals/<int:proposal_id>/carry/", views.carry, name="carry"),
    path("proposals/<int:proposal_id>/amend/", views.amend, name="amend"),
    path("proposals/<int:proposal_id>/withdraw/", views.withdraw, name="withdraw"),
    path("proposals/<int:proposal_id>/publish/", views.publish, name="publish"),
    path("proposals/<int:proposal_id>/vote/", views.vote, name="vote"),
    path("proposals/<int:proposal_id>/count/", views.count, name="count"),
    path("proposals/<int:proposal_id>/vote-record.json", views.board, name="board"),
    path("proposals/<int:proposal_id>/volunteer/", views.volunteer, name="volunteer"),
    path(
        "proposals/<int:proposal_id>/mandate/decide/", views.mandate_decide, name="mandate_decide"
    ),
    path("proposals/<int:proposal_id>/mandate/recall/", views.recall, name="recall"),
    path("proposals/<int:proposal_id>/meeting/", views.meeting, name="meeting"),
    path(
        "proposals/<int:proposal_id>/meeting/confirm/",
        views.meeting_confirm,
        name="meeting_confirm",
    ),
    path("proposals/<int:proposal_id>/remind/", views.remind, name="remind"),
    path("proposals/<int:proposal_id>/comment/", views.comment, name="comment"),
    path(
        "proposals/<int:proposal_id>/founding-invitation/",
        views.founding_invitation,
        name="founding_invitation",
    ),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path(
        "meetings/<int:meeting_id>/confirm/",
        views.meeting_record_confirm,
        name="meeting_record_confirm",
    ),
    path("discussion/", views.group_thread, name="group_thread"),
    path("groups/<int:group_id>/meeting-pack/", meeting_pack.meeting_pack, name="meeting_pack"),
    path("decisions/", views.decision_log, name="decisions"),
    path("decisions/<str:chain>.jsonl", views.decision_export, name="decision_export"),
]
