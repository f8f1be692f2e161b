from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from config.health import healthz

admin.site.site_header = _("Portfolio dealflow")
admin.site.site_title = _("Portfolio dealflow")
admin.site.index_title = _("Administration")


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever a page links: send them to the static file (hashed in
    production, so resolved per request, and not a permanent redirect)."""

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.ico")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dealflow:board", permanent=False)),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dealflow/", include("dealflow.urls")),
    path("hooks/", include("integrations.inbound.urls")),  # webhooks in (integrations/inbound/)
    path("accounting/", include("accounting.urls")),  # financials from Fortnox (accounting/)
]
