"""Inlines on the integration page: its stage mappings (editable) and its recent sync runs."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet

from dealflow.models import DealStatus, StageMapping
from integrations.models import SyncRun

RECENT_RUNS = 10


class StageMappingForm(forms.ModelForm):
    class Meta:
        model = StageMapping
        fields = ["target", "is_confirmed"]

    def save(self, commit=True):
        if "target" in self.changed_data:
            self.instance.is_confirmed = True  # staff chose it
        return super().save(commit)


class StageMappingInline(admin.TabularInline):
    model = StageMapping
    form = StageMappingForm
    fields = ["stage_name", "pipeline_name", "open_deals", "suggested_target", "target", "is_confirmed"]
    readonly_fields = ["stage_name", "pipeline_name", "open_deals", "suggested_target"]
    extra = 0
    can_delete = False
    verbose_name = "stage mapping"
    verbose_name_plural = "Stage mappings (a changed target counts as confirmed)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("stage__pipeline")
            .annotate(open_deal_count=Count("stage__deals", filter=Q(stage__deals__status=DealStatus.OPEN)))
            .order_by("stage__pipeline__order_nr", "stage__pipeline_remote_id", "stage__order_nr", "stage__remote_id")
        )

    @admin.display(description="Stage")
    def stage_name(self, obj):
        deleted = " (deleted in Pipedrive)" if obj.stage.is_deleted else ""
        return f"{obj.stage.name}{deleted} · id {obj.stage.remote_id}"

    @admin.display(description="Pipeline")
    def pipeline_name(self, obj):
        return obj.stage.pipeline.name if obj.stage.pipeline else f"id {obj.stage.pipeline_remote_id}"

    @admin.display(description="Open deals")
    def open_deals(self, obj):
        return obj.open_deal_count


class RecentRunsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:RECENT_RUNS]


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    formset = RecentRunsFormSet
    fields = [
        "kind", "started_at", "finished_at", "outcome", "created", "updated", "deleted", "unchanged",
        "api_calls", "token_cost", "progress", "error",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-started_at"]
    verbose_name_plural = f"Recent sync runs (last {RECENT_RUNS})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
