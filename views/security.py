"""Console security: our user model, one rate limiter, and no console for customers."""
from __future__ import annotations

import time

from flask import flash, g, has_request_context, redirect, request, session, url_for
from flask_login import user_logged_in
from wtforms.validators import DataRequired
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.utils.base import get_safe_redirect
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, RoleModelView, UserDBModelView

from app.jwt_manager import VerifyOnceJWTManager
from app.extensions import limiter
from app.models import Account
from app.services import accounts, password_reset, sign_in_sessions
from app.services.accounts import signed_in_before_password_change
from app.services.roles import CONSOLE_ROLES
from views.console import ConsoleInterface
from views.console_sign_in import finish_first_factor
from views.console_passwords import (NEW_USER_PASSWORD, BookwellResetMyPasswordView,
                                     BookwellResetPasswordView)
from views.titles import PlainTitles


class BookwellUserDBModelView(PlainTitles, UserDBModelView):
    """Admins manage every user, and attach provider staff to their provider."""

    class_permission_name = "UserDBModelView"
    item_name = "user"
    list_title, show_title, add_title, edit_title = "Users", "User", "Add user", "Edit user"
    user_info_title = "Your account"
    label_columns = {**UserDBModelView.label_columns, "provider": "Provider",
                     "marketing_consent": "Marketing consent", "locale": "Language",
                     "timezone": "Time zone", "two_factor": "2FA", "active": "Active",
                     "last_login": "Last sign-in", "login_count": "Sign-ins",
                     "fail_login_count": "Failed sign-ins", "created_on": "Created"}
    description_columns = {"two_factor": "Two-factor sign-in with an authenticator app"}
    show_template = "console/user_show.html"  # an admin's "Reset second factor" button
    list_columns = ["first_name", "last_name", "email", "provider", "roles", "active",
                    "two_factor"]
    order_columns = ["first_name", "last_name", "email", "active"]  # 2FA is not a column
    show_fieldsets = [
        ("User", {"fields": ["first_name", "last_name", "username", "email", "active", "roles",
                             "two_factor"]}),
        ("Provider", {"fields": ["provider"]}),
        ("Profile", {"fields": ["phone", "locale", "timezone", "marketing_consent"]}),
        ("Audit", {"fields": ["last_login", "login_count", "fail_login_count", "created_on"]}),
    ]
    user_show_fieldsets = [
        ("User", {"fields": ["first_name", "last_name", "username", "email", "provider"]}),
    ]
    add_columns = [
        "first_name", "last_name", "username", "email", "active", "roles", "provider",
        "password", "conf_password",
    ]
    # FAB's own check reads a "groups" field these forms do not have (a 500 without a role).
    validators_columns = {"roles": [DataRequired("Choose at least one role.")]}
    add_form_extra_fields = {**UserDBModelView.add_form_extra_fields,
                             "password": NEW_USER_PASSWORD}
    edit_columns = ["first_name", "last_name", "username", "email", "active", "roles", "provider"]
    search_columns = ["first_name", "last_name", "username", "email", "provider", "roles", "active"]

    # On the list (the user's page has its own button); the confirmation is its own page.
    @action("reset_second_factor", "Reset second factor", icon="fa-unlock-alt", single=False)
    def reset_second_factor(self, items):
        if len(items) != 1 or items[0] is None:
            flash("Choose one user to reset their second factor.", "warning")
            return redirect(url_for(f"{self.endpoint}.list"))
        return redirect(url_for("SecondFactorResetView.reset", pk=items[0].id))


class BookwellRoleModelView(PlainTitles, RoleModelView):
    """Roles are synced from code (app/services/roles.py): the list names them, the role's
    page lists its permissions."""

    class_permission_name = "RoleModelView"
    item_name = "role"
    list_title, show_title, add_title, edit_title = "Roles", "Role", "Add role", "Edit role"
    list_columns = ["name"]


class NoSecurityApi(SecurityApi):
    """Flask-AppBuilder's own JWT login, switched off: `/api/v1/auth/login` is the one way in.

    Redefining the methods without ``@expose`` leaves the blueprint with no routes.
    """

    def login(self):  # pragma: no cover - not routed
        raise NotImplementedError

    def refresh(self):  # pragma: no cover - not routed
        raise NotImplementedError


class BookwellAuthDBView(AuthDBView):
    """Sign-out only by POST, so the app's CSRF protection covers it: a link or image on
    another site must not sign a provider out. The menu's "Logout" is a form
    (templates/appbuilder/navbar_right.html); a GET answers 405 and signs nobody out.
    The sign-in form asks for the email, which is what the console signs in by."""

    login_template = "console/login.html"

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        """Flask-AppBuilder's password sign-in, ending in ``finish_first_factor``: a right
        password signs in, or asks for the second factor's code first."""
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(self.invalid_login_message, "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            return finish_first_factor(user, next_url)
        return self.render_template(self.login_template, title=self.title, form=form,
                                    appbuilder=self.appbuilder)

    @expose("/logout/", methods=["POST"])
    def logout(self):
        end_current_session()
        return super().logout()


SIGNED_IN_AT = "signed_in_at"
SESSION_ID, TOUCHED_AT = "sign_in_session", "sign_in_session_touched"


def _remember_sign_in(app, user, **extra):
    """Every console or shop sign-in: its time, and a session its holder can see and end."""
    now = int(time.time())
    # A shared page (an identity provider's callback) says which it is in ``g``.
    kind = g.get("sign_in_kind") or (
        sign_in_sessions.SHOP if request.path.startswith("/shop") else sign_in_sessions.CONSOLE)
    session[SIGNED_IN_AT] = session[TOUCHED_AT] = now
    session[SESSION_ID] = sign_in_sessions.start(
        user.id, kind, user_agent=request.user_agent.string, address=request.remote_addr)


def end_current_session() -> None:
    """Signing out of the console or the shop ends this browser's session."""
    from flask_login import current_user

    session_id = session.pop(SESSION_ID, None)
    if session_id and current_user.is_authenticated:
        sign_in_sessions.end(current_user.id, session_id, missing_ok=True)


def _session_still_going(user) -> bool:
    if signed_in_before_password_change(user, session.get(SIGNED_IN_AT)):
        return False
    session_id = session.get(SESSION_ID)
    if session_id is None:
        return True  # signed in before sessions were kept; a new password still ends it
    if sign_in_sessions.is_ended(session_id):
        return False
    if time.time() - session.get(TOUCHED_AT, 0) > sign_in_sessions.TOUCH_INTERVAL.seconds:
        session[TOUCHED_AT] = int(time.time())
        sign_in_sessions.touch(session_id)
    return True


class BookwellSecurityManager(SecurityManager):
    user_model = Account
    userdbmodelview = BookwellUserDBModelView
    rolemodelview = BookwellRoleModelView
    authdbview = BookwellAuthDBView
    resetmypasswordview = BookwellResetMyPasswordView
    resetpasswordview = BookwellResetPasswordView
    security_api = NoSecurityApi

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # The security screens show values and search (on booleans too: active) like the
        # other console screens: the console's data interface.
        users = ConsoleInterface(self.user_model)
        for view in (self.userdbmodelview, self.userstatschartview):
            view.datamodel = users  # as Flask-AppBuilder does, one interface for both
        for view in (self.rolemodelview, self.groupmodelview):
            view.datamodel = ConsoleInterface(view.datamodel.obj)
        # Console and shop sessions (Flask-Login) remember when they signed in, and end
        # when the account's password changed after that.
        self.lm.user_loader(self.load_session_user)
        user_logged_in.connect(_remember_sign_in, weak=False)

    def load_session_user(self, pk):
        user = self.load_user(pk)
        if user is not None and not _session_still_going(user):
            for key in (SIGNED_IN_AT, SESSION_ID, TOUCHED_AT):
                session.pop(key, None)
            return None
        return user

    def reset_password(self, userid, password):
        """The console's password forms: the password rule, and the other sign-ins end.
        Changing one's own keeps this browser's session."""
        own = g.user is not None and str(g.user.id) == str(userid)
        password_reset.change_password(int(userid), password,
                                       keep_session=session.get(SESSION_ID) if own else None)
        if own:
            session[SIGNED_IN_AT] = int(time.time())

    def create_jwt_manager(self, app) -> VerifyOnceJWTManager:
        jwt_manager = VerifyOnceJWTManager()
        jwt_manager.init_app(app)
        jwt_manager.user_lookup_loader(self.load_user_jwt)
        return jwt_manager

    def create_limiter(self, app):
        limiter.init_app(app)
        return limiter

    def exist_permission_on_roles(self, view_name, permission_name, role_ids) -> bool:
        """Flask-AppBuilder asks once per menu item and button (thirty-odd times a console
        page); here the roles' permissions are read once a request and the checks answered
        from them. A change to a role applies from the next request."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        granted = g.setdefault("role_permissions", {})
        key = tuple(sorted(role_ids))
        if key not in granted:
            granted[key] = {(row.permission.name, row.view_menu.name)
                            for role_id in key for row in self.get_db_role_permissions(role_id)}
        return (permission_name, view_name) in granted[key]

    def auth_user_db(self, username, password):
        """Console sign-in; customers have an account but no console."""
        user = super().auth_user_db(username, password)
        if user is None:
            accounts.record_failed_console_sign_in(username, password_accepted=False)
            return None
        if not (user.role_names & CONSOLE_ROLES):
            accounts.record_failed_console_sign_in(username, password_accepted=True)
            return None
        return user
