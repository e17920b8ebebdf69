from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import path
import django_cas_ng.views


@login_required
def protected(request):
    return JsonResponse({"user": request.user.get_username(), "attributes": request.session.get("attributes")})


urlpatterns = [
    path("accounts/login", django_cas_ng.views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout", django_cas_ng.views.LogoutView.as_view(), name="cas_ng_logout"),
    path("protected", protected),
]
