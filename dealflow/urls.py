from django.urls import path

from dealflow import deal_views, metrics_views, views

app_name = "dealflow"

urlpatterns = [
    path("", views.board, name="board"),
    path("export.csv", views.export_csv, name="export"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("column/<slug:column>/", views.column, name="column"),
    # Metrics (before <slug>/: these names are not company slugs).
    path("overview/", metrics_views.overview, name="overview"),
    path("overview.csv", metrics_views.overview_csv, name="overview_csv"),
    path("metrics/", metrics_views.portfolio_metrics, name="portfolio_metrics"),
    path("metrics.csv", metrics_views.portfolio_metrics_csv, name="portfolio_metrics_csv"),
    path("<slug:slug>/metrics/", metrics_views.company_metrics, name="company_metrics"),
    path("<slug:slug>/metrics.csv", metrics_views.company_metrics_csv, name="company_metrics_csv"),
    path("<slug:slug>/", views.board, name="company_board"),
    path("<slug:slug>/export.csv", views.export_csv, name="company_export"),
    path("<slug:slug>/export.xlsx", views.export_xlsx, name="company_export_xlsx"),
    path("<slug:slug>/column/<slug:column>/", views.column, name="company_column"),
    path("<slug:slug>/deals/<int:deal_id>/", views.deal, name="deal"),  # the deal's id in the CRM
    # Write-back (deal_views.py): staff and the company's editors.
    path("<slug:slug>/deals/new/", deal_views.new_deal, name="new_deal"),
    *(
        path(
            f"<slug:slug>/deals/<int:deal_id>/{action}/",
            deal_views.change_deal,
            {"action": action},
            name=f"deal_{action}",
        )
        for action in ("stage", "won", "lost", "reopen", "edit")
    ),
    path("<slug:slug>/logo/", views.company_logo, name="company_logo"),
    path("<slug:slug>/sync/", views.sync_now, name="sync"),
    path("<slug:slug>/sync/status/", views.sync_status, name="sync_status"),
]
