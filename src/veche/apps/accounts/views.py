"""Logging in and out. Views validate, call a service, render. (Joining: federation.)"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from veche.apps.accounts import services
from veche.apps.accounts.forms import LoginForm
from veche.apps.accounts.keys import share_on_login
from veche.apps.accounts.middleware import remember_private_key
from veche.apps.core import keyring
from veche.apps.core.actions import form_at
from veche.apps.core.permissions import member_required, public


@public
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Show the login form; on POST, log in (delayed after failures, within the hashing budget)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    status = 200
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                member = services.authenticate_member(
                    request=request,
                    pseudonym=form.cleaned_data["pseudonym"],
                    passphrase=form.cleaned_data["passphrase"],
                )
            except services.LoginDelayed as delayed:
                form.add_error(
                    None,
                    ngettext(
                        "Logging in with this pseudonym failed a moment ago. Wait %(seconds)d "
                        "second, then try again: your passphrase will be checked then.",
                        "Logging in with this pseudonym failed a moment ago. Wait %(seconds)d "
                        "seconds, then try again: your passphrase will be checked then.",
                        delayed.seconds,
                    )
                    % {"seconds": delayed.seconds},
                )
                response = _render_login(request, form, next_url, status=429)
                response["Retry-After"] = str(delayed.seconds)
                return response
            except services.HashingBusy:
                return busy(request, "accounts/login.html", form, {"next": next_url})
            except services.LoginRefused:
                form.add_error(None, _("Wrong pseudonym or passphrase."))
                status = 400
            else:
                request.session.pop(keyring.KEY_LOST, None)
                login(request, member)
                response = redirect(next_url or "home")
                remember_private_key(request, response, member.unlocked_private_key)
                share_on_login(member, member.unlocked_private_key)
                return response
        else:
            status = 400
    else:
        form = LoginForm()
    return _render_login(request, form, next_url, status=status)


def _render_login(
    request: HttpRequest, form: LoginForm, next_url: str, *, status: int
) -> HttpResponse:
    key_lost = bool(request.session.pop(keyring.KEY_LOST, False))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": next_url, "key_lost": key_lost},
        status=status,
    )


BUSY_RETRY_SECONDS = 5


def busy(request: HttpRequest, template: str, form: Any, context: dict[str, Any]) -> HttpResponse:
    """Return the form again, what was typed kept (never the passphrase), with a 503 saying
    the server is busy with other logins: nothing was checked or saved."""
    form.add_error(
        None,
        _(
            "The server is busy with other logins right now, and nothing was checked "
            "or saved. Please try again in a moment."
        ),
    )
    response = render(request, template, {"form": form, **context}, status=503)
    response["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


@public
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out this session (POST) and return to the start page; GET shows the buttons."""
    if request.method != "POST":
        if not request.user.is_authenticated:
            return redirect("home")
        return render(request, "accounts/logout.html")
    logout(request)  # flushes the session, and with it the wrapped key
    response = redirect("home")
    keyring.forget_private_key(response)
    return response


@member_required
@form_at("accounts:logout")
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the member, this one included (POST only)."""
    services.log_out_everywhere(member=request.user)
    logout(request)
    response = redirect("accounts:login")
    keyring.forget_private_key(response)
    return response
