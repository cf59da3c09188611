"""Comments on tasks: plain text, live on every board that shows the task."""

import sqlalchemy as sa
from flask_restx import Namespace, Resource

from app import access, db
from app.api import listing
from app.api.common import commit_and_dump, json_body, validated
from app.api.docs import ERROR, links_field, list_model, model_from_schema
from app.api.listing import FixedOrder, ListArgs
from app.api.resources import object_route, responses
from app.auth import auth, current_user
from app.errors import ApiError
from app.links import link
from app.models import Comment, Role, Task, utcnow
from app.schemas import CommentSchema, comment_schema

ns = Namespace("comments", description="Comments on tasks", decorators=[auth.login_required])

comment_model = model_from_schema(
    ns,
    "Comment",
    comment_schema,
    {"links": links_field(ns, "CommentLinks", ["self", "task", "author"], optional=("author",))},
)
comment_list_model = list_model(ns, "CommentList", comment_model)
comment_body_model = ns.model("CommentBody", {"body": comment_model["body"]}, strict=True)

AUTHOR_ONLY = "Only the author can edit a comment."
AUTHOR_OR_ADMIN = "Only the author or a project admin can delete a comment."


def body_write(success, forbidden):
    """The OpenAPI description of a write that takes a comment's body."""
    return ns.doc(
        expect=[comment_body_model],
        **responses(success, (400, "Invalid input", ERROR), (403, forbidden, ERROR)),
    )


class CommentListArgs(ListArgs):
    ordering = FixedOrder("oldest first")


comment_list_args = CommentListArgs()


@object_route(ns, "tasks/<int:task_id>/comments", "task_comments", "No such task", task_id="The task's id")
class TaskComments(Resource):
    @ns.doc(params=CommentListArgs.parameters())
    @ns.response(200, "A page of the task's comments, oldest first", comment_list_model)
    @ns.response(400, "A query parameter is not valid", ERROR)
    def get(self, task_id):
        """List a task's comments, oldest first"""
        access.get_or_404(Task, task_id)
        statement = sa.select(Comment).where(Comment.task_id == task_id).order_by(Comment.id)
        return listing.run(statement, comment_list_args, comment_schema)

    @body_write((201, "Added", comment_model), "Viewers cannot comment")
    def post(self, task_id):
        """Comment on a task (members and admins)"""
        task, _ = access.get_for_writing(Task, task_id)
        data = validated(CommentSchema, json_body())
        comment = Comment(task=task, project_id=task.project_id, author=current_user(), body=data["body"])
        db.session.add(comment)
        body, _ = commit_and_dump(comment, comment_schema)
        return body, 201, {"Location": link("api.comment", comment_id=body["id"])}


@object_route(ns, "comments/<int:comment_id>", "comment", "No such comment", comment_id="The comment's id")
class CommentItem(Resource):
    @ns.response(200, "The comment", comment_model)
    def get(self, comment_id):
        """Get a comment"""
        comment, _ = access.get_or_404(Comment, comment_id)
        return comment_schema.dump(comment)

    @body_write((200, "Edited", comment_model), "Only the author edits a comment")
    def patch(self, comment_id):
        """Edit a comment (its author only)"""
        comment, _ = access.get_for_writing(Comment, comment_id)
        if comment.author_id != current_user().id:
            raise ApiError(403, AUTHOR_ONLY)
        data = validated(CommentSchema, json_body(), instance=comment, partial=True)
        if "body" in data and data["body"] != comment.body:
            comment.body = data["body"]
            comment.edited = utcnow()
        body, _ = commit_and_dump(comment, comment_schema)
        return body

    @ns.response(204, "Deleted")
    @ns.response(403, "Only the author or an admin deletes a comment", ERROR)
    def delete(self, comment_id):
        """Delete a comment (its author, or a project admin)"""
        comment, role = access.get_for_writing(Comment, comment_id)
        if comment.author_id != current_user().id and role != Role.ADMIN:
            raise ApiError(403, AUTHOR_OR_ADMIN)
        db.session.delete(comment)
        db.session.commit()
        return "", 204
