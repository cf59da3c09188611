"""Projects: each team's sprints and tasks, with its members and their roles."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_restx import Namespace, Resource
from flask_restx import fields as rx

from app import access, db, planning
from app.activity import of_project
from app.api import listing
from app.api.activity import add_activity_route, add_view_route
from app.api.common import commit_and_dump, json_body, validated
from app.api.docs import ERROR, links_field, list_model, model_from_schema
from app.api.listing import ListArgs, Ordering, Search
from app.api.resources import ModelItem, ModelList, item_route, list_route, model_resource, object_route
from app.auth import auth, current_user, find_user
from app.errors import ApiError
from app.links import link
from app.models import Membership, Project, Role, Sprint, Task, User
from app.schemas import (
    PROJECT_NAME_TAKEN,
    ProjectSchema,
    RoleRequestSchema,
    member_schema,
    project_schema,
)

ns = Namespace(
    "projects", description="Projects: a team's sprints, tasks and members", decorators=[auth.login_required]
)

_links = links_field(ns, "ProjectLinks", ["self", "sprints", "tasks", "members", "activity", "velocity"])
project_model = model_from_schema(ns, "Project", project_schema, {"links": _links})
project_patch_model = model_from_schema(ns, "ProjectPatch", project_schema, {"links": _links}, partial=True)
member_model = model_from_schema(
    ns, "Member", member_schema, {"links": links_field(ns, "MemberLinks", ["user"])}
)
role_model = model_from_schema(ns, "RoleRequest", RoleRequestSchema())


class ProjectListArgs(ListArgs):
    search = Search("case-insensitive substring of the name", [Project.name])
    ordering = Ordering({"name": Project.name}, default=[Project.name])


class MemberListArgs(ListArgs):
    ordering = Ordering({"username": User.username}, default=[User.username])


member_list_args = MemberListArgs()


IN_USE = "This project still has sprints or tasks: delete them first."
NOT_A_MEMBER = 'User "{}" is not a member of this project.'


ProjectResource = model_resource(Project, ProjectSchema, project_schema, {"name": [PROJECT_NAME_TAKEN]})


@list_route(ns, "project", project_model, ProjectListArgs)
class ProjectList(ProjectResource, ModelList):
    """The caller's projects"""

    def get(self):
        return listing.run(access.with_roles(sa.select(Project)), self.args_schema, self.schema, Project.id)

    def post(self):
        """Create a project; its creator becomes its admin."""
        data = self.validated(json_body())
        project = Project(**data)
        db.session.add(project)
        db.session.add(Membership(project=project, user=current_user(), role=Role.ADMIN))
        so.attributes.set_committed_value(project, "role", Role.ADMIN.value)
        body, etag = commit_and_dump(project, self.schema, self.conflict_errors)
        return body, 201, {"ETag": etag, "Location": link(self.item_endpoint, project_id=body["id"])}


@item_route(ns, "project", project_model, project_patch_model, delete_conflict=IN_USE)
class ProjectItem(ProjectResource, ModelItem):
    """One project: members read it, admins change it"""

    in_use_message = IN_USE

    def require_role(self, role):
        access.require_admin(role)

    def check_delete(self, project):
        for model in (Sprint, Task):
            if db.session.scalar(sa.select(model.id).where(model.project_id == project.id).limit(1)):
                raise ApiError(409, IN_USE)
        # Removed one by one, so that every member's open boards hear of it.
        for membership in db.session.scalars(
            sa.select(Membership).where(Membership.project_id == project.id)
        ):
            db.session.delete(membership)


def _project_for_membership_change(project_id):
    """The project, locked so that concurrent membership changes cannot both remove its last admin."""
    return access.get_or_404(Project, project_id, lock=True)


def _membership(project_id, username):
    return db.session.scalar(
        sa.select(Membership).join(User).where(Membership.project_id == project_id, User.username == username)
    )


def _is_last_admin(membership):
    if membership.role != Role.ADMIN:
        return False
    admins = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.project_id == membership.project_id, Membership.role == Role.ADMIN.value)
    )
    return admins <= 1


@object_route(ns, "/<int:project_id>/members", "members", "No such project", project_id="The project's id")
class MemberList(Resource):
    @ns.doc(params=MemberListArgs.parameters())
    @ns.response(
        200, "A page of the project's members, by username", list_model(ns, "MemberList", member_model)
    )
    @ns.response(400, "A query parameter is not valid", ERROR)
    def get(self, project_id):
        """List a project's members and their roles"""
        access.get_or_404(Project, project_id)
        statement = sa.select(Membership).join(User).where(Membership.project_id == project_id)
        return listing.run(statement, member_list_args, member_schema, tiebreak=User.id)


@object_route(
    ns,
    "/<int:project_id>/members/<string:username>",
    "member",
    "No such project, user or member",
    project_id="The project's id",
    username="The member's username",
)
@ns.response(403, "Not allowed: only admins manage members", ERROR)
class MemberItem(Resource):
    @ns.expect(role_model)
    @ns.response(200, "The member's role changed", member_model)
    @ns.response(201, "The user was added", member_model)
    @ns.response(400, "Invalid input", ERROR)
    @ns.response(409, "The project's last admin cannot be demoted", ERROR)
    def put(self, project_id, username):
        """Add a member, or change a member's role (admins only)"""
        project, role = _project_for_membership_change(project_id)
        access.require_admin(role)
        new_role = validated(RoleRequestSchema, json_body())["role"]
        membership = _membership(project.id, username)
        if membership is None:
            user = find_user(username)
            if user is None or not user.is_active:
                raise ApiError(404, f'User "{username}" not found.')
            membership = Membership(project=project, user=user, role=new_role)
            db.session.add(membership)
            status = 201
        else:
            if new_role != Role.ADMIN and _is_last_admin(membership):
                raise ApiError(409, access.LAST_ADMIN)
            membership.role = new_role
            status = 200
        db.session.flush()
        body = member_schema.dump(membership)
        db.session.commit()
        headers = {"Location": link("api.member", project_id=project.id, username=username)}
        return body, status, headers if status == 201 else {}

    @ns.response(204, "Removed")
    @ns.response(409, "The project's last admin cannot leave", ERROR)
    def delete(self, project_id, username):
        """Remove a member (admins), or leave the project (any member)"""
        project, role = _project_for_membership_change(project_id)
        if username != current_user().username:
            access.require_admin(role)
        membership = _membership(project.id, username)
        if membership is None:
            raise ApiError(404, NOT_A_MEMBER.format(username))
        if _is_last_admin(membership):
            raise ApiError(409, access.LAST_ADMIN)
        db.session.delete(membership)
        db.session.commit()
        return "", 204


_velocity_sprint = ns.model(
    "VelocitySprint",
    {
        "id": rx.Integer(required=True),
        "name": rx.String(required=True),
        "start": rx.Date(required=True),
        "end": rx.Date(required=True),
        "committed": rx.Float(required=True, description="what the sprint held at the end of its first day"),
        "completed": rx.Float(required=True, description="what was Done at the end of its last day"),
    },
)
velocity_model = ns.model(
    "Velocity",
    {
        "unit": rx.String(required=True, enum=["points", "tasks"]),
        "sprints": rx.List(rx.Nested(_velocity_sprint), required=True),
    },
)


add_view_route(
    ns,
    Project,
    "project_id",
    "velocity",
    "project_velocity",
    "Committed and completed work of the project's last six ended sprints, from the change log",
    (200, "The last six ended sprints, oldest first", velocity_model),
    lambda project: planning.velocity(project.id),
)


add_activity_route(ns, Project, "project_id", "project_activity", of_project)
