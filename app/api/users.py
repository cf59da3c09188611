"""Users: read only through the API (accounts are made with ``flask create-user``)."""

import sqlalchemy as sa
from flask_restx import Namespace, Resource

from app.api import listing
from app.api.docs import ERROR, links_field, list_model, model_from_schema
from app.api.listing import ListArgs, Ordering, Search
from app.api.resources import object_route
from app.auth import auth, find_user
from app.errors import ApiError
from app.models import User
from app.schemas import user_schema

ns = Namespace("users", description="The people on the board (read only)", decorators=[auth.login_required])

user_model = model_from_schema(
    ns, "User", user_schema, {"links": links_field(ns, "UserLinks", ["self", "tasks"])}
)
user_list_model = list_model(ns, "UserList", user_model)


class UserListArgs(ListArgs):
    search = Search("case-insensitive substring of the username", [User.username])
    ordering = Ordering({"username": User.username}, default=[User.username])


user_list_args = UserListArgs()


@ns.route("", endpoint="users")
@ns.response(401, "Not authenticated", ERROR)
class UserList(Resource):
    @ns.doc(params=UserListArgs.parameters())
    @ns.response(200, "A page of active users", user_list_model)
    @ns.response(400, "A query parameter is not valid", ERROR)
    @ns.response(404, "No such page", ERROR)
    def get(self):
        """List active users"""
        # A deactivated user is no one to add to a project; GET /users/<username> still shows
        # them, since tasks and comments may still name them.
        statement = sa.select(User).where(User.is_active)
        return listing.run(statement, user_list_args, user_schema, tiebreak=User.id)


@object_route(ns, "/<string:username>", "user", "No such user", username="The user's username")
class UserItem(Resource):
    @ns.response(200, "The user", user_model)
    def get(self, username):
        """Get a user"""
        user = find_user(username)
        if user is None:
            raise ApiError(404, f'User "{username}" not found.')
        return user_schema.dump(user)
