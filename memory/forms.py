from django import forms

from memory.services import MAX_CONTENT


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, label="Search")


class EntryForm(forms.Form):
    content = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_CONTENT)
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    def cleaned_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
