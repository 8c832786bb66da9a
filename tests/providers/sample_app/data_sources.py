from providers.base import DataSourceProvider
from providers.registry import register


@register
class ShiftLog(DataSourceProvider):
    name = "sample_shift_log"
    description = "The last entries of the shift log"
    context_type = "log_entries"

    async def retrieve(self, request):
        entries = ["07:10 injection resumed", "07:45 RF cavity 3 tripped"][: self.options.get("limit", 2)]
        return self.context(entries, summary=f"{len(entries)} entries")
