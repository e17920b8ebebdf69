#!/usr/bin/env python3
"""A tiny django-cas-ng application (issue #11), driven by the Rust test `cas_clients`:

    IDP_CAS_SERVER_URL=http://127.0.0.1:PORT/cas/ CAS_DJANGO_DB=/tmp/x.db \
        manage.py migrate && manage.py runserver 127.0.0.1:PORT2 --noreload

/protected needs a CAS sign-in and answers the user and the released attributes as JSON;
django-cas-ng answers the provider's single logout POSTs at /accounts/login.
"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casapp.settings")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
