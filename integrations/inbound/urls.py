from django.urls import path

from . import views

app_name = "inbound"

urlpatterns = [
    path("<slug:provider>/<str:key>/", views.receive_webhook, name="receive"),
]
