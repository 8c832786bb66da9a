from django import forms


class ContextQueryForm(forms.Form):
    q = forms.CharField(
        label="Request",
        widget=forms.Textarea(attrs={"rows": 4, "autofocus": True, "spellcheck": "false"}),
        help_text="A request as an operator would type it, e.g. “Is SR:RF:CAV3:TEMP above 40?”. "
        "Nothing is run and nothing is written: providers only read.",
    )
