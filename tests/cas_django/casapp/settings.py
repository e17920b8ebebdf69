"""Settings of the test application: everything from the environment the Rust test sets."""
import os

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_cas_ng",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
AUTHENTICATION_BACKENDS = ["django_cas_ng.backends.CASBackend"]
ROOT_URLCONF = "casapp.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CAS_DJANGO_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login"

CAS_SERVER_URL = os.environ["IDP_CAS_SERVER_URL"]
CAS_VERSION = "3"
CAS_CREATE_USER = True
CAS_REDIRECT_URL = "/protected"
CAS_LOGGED_MSG = None
CAS_LOGIN_MSG = None
