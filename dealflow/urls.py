from django.urls import path

from dealflow import views

app_name = "dealflow"

urlpatterns = [
    path("", views.board, name="board"),
]
