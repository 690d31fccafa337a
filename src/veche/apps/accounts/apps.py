from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "veche.apps.accounts"
    label = "accounts"
