from django.urls import path

from . import views

app_name = "identity"

# Mounted at /accounts/ before allauth's own pages (login, signup, email, password, providers,
# two-factor), which share the prefix.
urlpatterns = [
    path("", views.account, name="account"),
    path("switch/", views.switch, name="switch"),
    path("pseudonym/", views.PseudonymSignupView.as_view(), name="pseudonym"),
    path("3rdparty/signup/", views.ProviderSignupView.as_view()),  # allauth's socialaccount_signup, rate limited
]
