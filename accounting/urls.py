from django.urls import path

from accounting import connect_views, views

app_name = "accounting"

urlpatterns = [
    path("", views.portfolio_financials, name="portfolio"),
    path("fortnox/callback/", connect_views.fortnox_callback, name="fortnox_callback"),
    path("fortnox/connect/<slug:slug>/", connect_views.fortnox_connect, name="fortnox_connect"),
    path("<slug:slug>/", views.company_financials, name="financials"),
]
