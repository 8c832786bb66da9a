from django import forms


class RunForm(forms.Form):
    request = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "autofocus": True, "spellcheck": "false"}),
        help_text="Python code (raw or in a ```python block) or a JSON/YAML plan. "
        "Start with /planning to have the plan approved before anything runs.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve"),
            ("reject", "Reject"),
            ("preview_edit", "Check my edit"),
            ("approve_edit", "Approve the edited version"),
        ]
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    edited = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}), required=False, strip=False)
