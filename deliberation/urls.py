from django.urls import path

from .views import calendars, comments, definitions, groups, joining, versions

app_name = "deliberation"

urlpatterns = [
    path("definitions/", definitions.definition_list, name="definition-list"),
    path("definitions/new/", definitions.definition_create, name="definition-create"),
    path("d/<slug:slug>/", definitions.definition, name="definition"),
    path("d/<slug:slug>/organizers/", definitions.organizer_add, name="organizer-add"),
    path("d/<slug:slug>/follow/", definitions.follow, name="definition-follow"),
    path("d/<slug:slug>/unfollow/", definitions.unfollow, name="definition-unfollow"),
    path("d/<slug:slug>/organizers/<int:pk>/remove/", definitions.organizer_remove, name="organizer-remove"),
    path("d/<slug:slug>/releases.atom", definitions.ReleaseFeed(), name="release-feed"),
    path("d/<slug:slug>/discussion.atom", definitions.DiscussionFeed(), name="discussion-feed"),
    path("d/<slug:slug>/diff/", versions.diff, name="diff"),
    path("d/<slug:slug>/drafts/start/", versions.draft_start, name="draft-start"),
    path("d/<slug:slug>/v/<str:label>/", versions.version, name="version"),
    path("d/<slug:slug>/v/<str:label>/edit/", versions.draft_edit, name="draft-edit"),
    path("d/<slug:slug>/v/<str:label>/publish/", versions.publish, name="publish"),
    path("d/<slug:slug>/v/<str:label>/revisions/", versions.revisions, name="revisions"),
    path("d/<slug:slug>/v/<str:label>/revisions/<int:number>/", versions.revision, name="revision"),
    path("d/<slug:slug>/v/<str:label>/comments/", comments.comment_create, name="comment-create"),
    path("d/<slug:slug>/v/<str:label>/components/new/", versions.component_form, name="component-create"),
    path("d/<slug:slug>/v/<str:label>/c/<slug:key>/", versions.component, name="component"),
    path("d/<slug:slug>/v/<str:label>/c/<slug:key>/edit/", versions.component_form, name="component-edit"),
    path("d/<slug:slug>/v/<str:label>/c/<slug:key>/remove/", versions.component_remove, name="component-remove"),
    path(
        "d/<slug:slug>/v/<str:label>/c/<slug:key>/comments/",
        comments.comment_create,
        name="component-comment-create",
    ),
    path("d/<slug:slug>/groups/new/", groups.group_create, name="group-create"),
    path("d/<slug:slug>/groups/<slug:key>/", groups.group, name="group"),
    path("d/<slug:slug>/groups/<slug:key>/members/", groups.member_add, name="member-add"),
    path("d/<slug:slug>/groups/<slug:key>/members/<int:pk>/leave/", groups.member_remove, name="member-remove"),
    path("d/<slug:slug>/groups/<slug:key>/members/many/", joining.members_bulk, name="members-bulk"),
    path("d/<slug:slug>/groups/<slug:key>/join/", joining.join_request, name="join-request"),
    path("d/<slug:slug>/groups/<slug:key>/requests/<int:pk>/", joining.join_decide, name="join-decide"),
    path("d/<slug:slug>/groups/<slug:key>/invitations/", joining.invitation_create, name="invitation-create"),
    path(
        "d/<slug:slug>/groups/<slug:key>/invitations/<int:pk>/revoke/",
        joining.invitation_revoke,
        name="invitation-revoke",
    ),
    path("calendar/", calendars.calendar, name="calendar"),
    path("calendar/new/", calendars.calendar_create, name="calendar-create"),
    path("calendar/revoke/", calendars.calendar_revoke, name="calendar-revoke"),
    path("invitations/<str:token>/", joining.invitation, name="invitation"),
    path("comments/<int:pk>/edit/", comments.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/history/", comments.comment_history, name="comment-history"),
    path("comments/<int:pk>/hide/", comments.comment_hide, name="comment-hide"),
]
