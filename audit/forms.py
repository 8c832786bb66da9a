from django import forms

from audit.actions import ACTIONS, FAMILIES
from audit.reports import FORMATS, ReportError, ReportFilters, parse_moment

KIND_CHOICES = [
    ("", "Every kind"),
    ("Families", [(family, f"{family}.*") for family in FAMILIES]),
    ("Actions", [(action, action) for action in sorted(ACTIONS)]),
]


class ReportForm(forms.Form):
    since = forms.CharField(required=False, help_text="From this date or date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM), inclusive. Empty: from the first event.")
    until = forms.CharField(required=False, help_text="Up to this date (the whole day included) or date-time (excluded). Empty: until now.")
    user = forms.CharField(required=False, help_text="Events this user did, or that concern their runs and notes.")
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES, help_text="An action family or one action.")
    outcome = forms.CharField(required=False, help_text="e.g. approved, rejected, expired, succeeded, failed, confirmed, refused.")
    pv = forms.CharField(required=False, label="PV", help_text="EPICS writes to this PV.")
    format = forms.ChoiceField(choices=[(f, f.upper()) for f in FORMATS], initial="pdf")

    def clean(self):
        data = super().clean()
        try:
            data["filters"] = ReportFilters(
                since=parse_moment(data.get("since")),
                until=parse_moment(data.get("until"), end=True),
                user=data.get("user", "").strip(),
                kind=data.get("kind", ""),
                outcome=data.get("outcome", "").strip(),
                pv=data.get("pv", "").strip(),
            )
        except ReportError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data
