from django.contrib import admin
from django.utils import timezone

from memory import services
from memory.models import MemoryEntry


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(MemoryEntry)
class MemoryEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "short_content", "created_at", "source", "approved_by", "deleted_at"]
    list_filter = [DeletedFilter, "source", "created_at"]
    search_fields = ["content", "owner__username"]
    raw_id_fields = ["owner", "source_run"]
    readonly_fields = ["created_at", "source", "source_run", "source_step", "approved_by", "updated_at", "deleted_at",
                       "deleted_by", "embedding_model"]
    fields = ["owner", "content", "tags", *readonly_fields]
    actions = ["soft_delete"]

    @admin.display(description="content")
    def short_content(self, entry):
        return entry.content[:100]

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen when an admin adds a note, then fixed.
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            # obj already holds the form's text: compare against the stored one.
            stored = MemoryEntry.objects.get(pk=obj.pk)
            saved = services.update_memory(stored, request.user, form.cleaned_data["content"], tags=form.cleaned_data["tags"])
        else:
            saved = services.save_memory(obj.owner, obj.content, source=MemoryEntry.Source.ADMIN, tags=obj.tags, by=request.user)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # deleting is soft (the action below): entries stay for audit

    @admin.action(description="Delete (soft: kept for audit)")
    def soft_delete(self, request, queryset):
        for entry in queryset.filter(deleted_at__isnull=True):
            services.delete_memory(entry, request.user)
        self.message_user(request, f"Deleted at {timezone.now():%Y-%m-%d %H:%M}.")
