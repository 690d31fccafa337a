"""The passphrase policy (decision 0070): one normal form, a minimum length and strength,
messages that help and say "passphrase", in English, Russian and Ukrainian."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from veche.apps.accounts import services
from veche.apps.accounts.models import PASSPHRASE_AS_TYPED, PASSPHRASE_NORMALISED, Member
from veche.apps.core.validators import normalise_passphrase
from veche.apps.federation.models import Invitation
from veche.crypto import new_member_keys

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"
DEMO = "demo passphrase, not secret"
ZW = "\u200b"  # zero-width space

WEAK = {
    "12 spaces": " " * 12,
    "12 zero-width characters": ZW * 12,
    "digits in a row": "123456789012",
    "a keyboard row": "qwertyuiopas",
    "one letter repeated": "aaaaaaaaaaaa",
    "a common password": "Password123!",
}
# What each language's message must say: the word for passphrase, and the advice.
SAYS = {
    "en": ("passphrase", "four or five unrelated words"),
    "ru": ("парольн", "четыре-пять не связанных между собой слов"),
    "uk": ("парольн", "чотири-п'ять не пов'язаних між собою слів"),
}
# Which specific hint each weak passphrase gets, by language.
HINTS = {
    "12 spaces": {"en": "invisible characters", "ru": "невидимые", "uk": "невидимі"},
    "12 zero-width characters": {"en": "invisible characters", "ru": "невидимые", "uk": "невидимі"},
    "digits in a row": {"en": "easy to guess", "ru": "легко угадать", "uk": "легко вгадати"},
    # zxcvbn finds "qwertyuiop" among common passwords before it sees a row of keys.
    "a keyboard row": {"en": "Common", "ru": "Распространённые", "uk": "Поширені"},
    "one letter repeated": {"en": "Repeated", "ru": "Повторы", "uk": "Повтори"},
    "a common password": {"en": "Common", "ru": "Распространённые", "uk": "Поширені"},
}


def error_text(response):
    """Return the text of the form's error lists (what the member reads as the reason)."""
    lists = re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )
    assert lists, "the page shows an error"
    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(lists)))


def join(client, secret, passphrase, pseudonym="newcomer", language="en"):
    return client.post(
        f"/join/{secret}/",
        {"pseudonym": pseudonym, "passphrase": passphrase, "passphrase_again": passphrase},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
@pytest.mark.parametrize("name", list(WEAK))
def test_each_weak_passphrase_is_refused_with_a_helpful_message(
    client, group_a, make_invitation, name, language
):
    secret = make_invitation(group_a)
    response = join(client, secret, WEAK[name], language=language)
    assert response.status_code == 400
    assert response["Content-Language"] == language
    errors = error_text(response)
    word, advice = SAYS[language]
    assert word in errors.lower()
    assert advice in errors
    assert HINTS[name][language] in errors
    if language == "en":
        assert "password" not in errors.lower().replace("passwords", "")  # "common passwords"
    assert not Member.objects.exists()
    assert Invitation.objects.get().used_at is None


@pytest.mark.parametrize("passphrase", [GOOD, DEMO, "river lantern cobalt tundra"])
def test_passphrases_of_a_few_random_words_are_accepted(passphrase):
    password_validation.validate_password(passphrase, user=Member(pseudonym="newcomer"))


def test_django_s_password_messages_are_not_used(settings):
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert all(name.startswith("veche.") for name in names)


def test_the_strength_check_knows_common_russian_and_ukrainian_passwords():
    for weak in ("пароль123456", "йцукенгшщзхъ", "gfhjkmgfhjkm"):
        with pytest.raises(ValidationError):
            password_validation.validate_password(weak, user=Member(pseudonym="newcomer"))


def test_a_very_long_passphrase_is_judged_quickly_by_its_beginning():
    long = "orchard " + "velvet lantern cobalt " * 40
    password_validation.validate_password(long, user=Member(pseudonym="newcomer"))
    with pytest.raises(ValidationError):
        password_validation.validate_password("a" * 1000, user=Member(pseudonym="newcomer"))


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("correct\u200bhorse", "correcthorse"),
        ("\ufeffcorrect horse\u200d", "correct horse"),
        ("correct\u00a0horse", "correct horse"),  # no-break space
        ("correct\u3000horse", "correct horse"),  # ideographic space
        ("ｃｏｒｒｅｃｔ", "correct"),  # full-width letters
        ("caf\u0065\u0301", "café"),  # decomposed é
        ("  correct \t\n horse  ", "correct horse"),
        ("\u2028\u2029\x00\x7f", ""),
    ],
)
def test_the_normal_form(typed, normal):
    assert normalise_passphrase(typed) == normal


def test_a_member_who_typed_an_invisible_character_at_joining_logs_in_without_it(
    group_a, make_invitation
):
    typed_at_joining = f"correct horse{ZW} battery{ZW} staple"
    response = join(Client(), make_invitation(group_a), typed_at_joining)
    assert response.status_code == 302
    assert (
        Client().post("/login/", {"pseudonym": "newcomer", "passphrase": GOOD}).status_code == 302
    )
    again = Client().post("/login/", {"pseudonym": "newcomer", "passphrase": typed_at_joining})
    assert again.status_code == 302


def test_the_two_passphrases_are_compared_in_normal_form(client, group_a, make_invitation):
    secret = make_invitation(group_a)
    response = client.post(
        f"/join/{secret}/",
        {"pseudonym": "newcomer", "passphrase": GOOD, "passphrase_again": f"{GOOD}{ZW}"},
    )
    assert response.status_code == 302


def test_a_member_from_before_normal_forms_still_logs_in_and_is_moved_over(group_a, test_keys):
    # Joined before this change: the key sealed under the passphrase exactly as typed,
    # with an invisible character in it, and a password hash beside it.
    from django.contrib.auth.hashers import make_password

    from veche.apps.accounts.keys import grant_all, kdf_cost, keys_for_group
    from veche.apps.core import keyring

    typed = f"correct horse{ZW} battery staple"
    record, _ = new_member_keys(typed, kdf=kdf_cost())
    member = Member(group=group_a, joined_at=timezone.now(), passphrase_form=PASSPHRASE_AS_TYPED)
    member.set_key_record(record)
    member.password = make_password(typed)
    with keyring.using(test_keys.keyring):
        member.pseudonym = "elder"
        member.save()
    grant_all(member, keys_for_group(test_keys.keyring, group_a.pk))
    public_key = bytes(member.public_key)

    client = Client()
    assert client.post("/login/", {"pseudonym": "elder", "passphrase": typed}).status_code == 302
    assert client.get("/inbox/").status_code == 200
    member.refresh_from_db()
    assert member.passphrase_form == PASSPHRASE_NORMALISED
    assert not member.has_usable_password()  # the old password hash is gone
    assert bytes(member.public_key) == public_key  # the same key pair, sealed anew
    # From now on the normal form opens it, with or without the invisible character.
    for passphrase in (GOOD, typed):
        found, key = services.check_passphrase(pseudonym="elder", passphrase=passphrase)
        assert found == member
        assert bytes(key.public_key) == public_key


def test_a_record_of_a_lower_cost_is_raised_at_login(member_a, settings):
    settings.VECHE_FAST_KDF = False  # today's cost is the production one
    before = (member_a.kdf_opslimit, member_a.kdf_memlimit)
    member = services.authenticate_member(request=None, pseudonym="ada", passphrase=GOOD)
    member.refresh_from_db()
    assert (member.kdf_opslimit, member.kdf_memlimit) > before
    assert services.check_passphrase(pseudonym="ada", passphrase=GOOD)[0] == member


def test_no_password_hash_is_kept(member_a):
    assert not member_a.has_usable_password()
    assert GOOD not in member_a.password
