"""import_pv_limits reads the reference framework's limits database."""
import json

import pytest
from django.core.management import CommandError, call_command

from execution.models import PvLimit

pytestmark = pytest.mark.django_db

LIMITS = {
    "_comment": "storage ring magnets",
    "defaults": {"writable": False, "verification": "callback"},
    "SR:MAG:Q1:SETPT": {"min_value": 0, "max_value": 50, "max_step": 2, "writable": True,
                        "verification": {"level": "readback", "tolerance_percent": 0.5}},
    "SR:MAG:Q2:SETPT": {"min_value": -10, "max_value": 10},
}


def test_imports_channels_with_defaults(tmp_path, capsys):
    path = tmp_path / "limits.json"
    path.write_text(json.dumps(LIMITS))
    call_command("import_pv_limits", str(path))

    q1, q2 = PvLimit.objects.order_by("pv")
    assert (q1.pv, q1.writable, q1.min_value, q1.max_value, q1.max_step) == ("SR:MAG:Q1:SETPT", True, 0, 50, 2)
    assert (q1.verification, q1.tolerance_percent) == ("readback", 0.5)
    assert (q2.writable, q2.verification, q2.tolerance_percent, q2.max_step) == (False, "callback", 0.1, None)
    assert "2 PV limits created, 0 updated." in capsys.readouterr().out


def test_replace_removes_channels_not_in_the_file(tmp_path):
    PvLimit.objects.create(pv="OLD:PV", writable=True)
    path = tmp_path / "limits.json"
    path.write_text(json.dumps({"SR:MAG:Q2:SETPT": {"writable": True}}))
    call_command("import_pv_limits", str(path), "--replace")
    assert list(PvLimit.objects.values_list("pv", flat=True)) == ["SR:MAG:Q2:SETPT"]


def test_unknown_verification_level_is_an_error_and_imports_nothing(tmp_path):
    path = tmp_path / "limits.json"
    path.write_text(json.dumps({"A": {"writable": True}, "B": {"verification": "maybe"}}))
    with pytest.raises(CommandError, match="unknown verification level"):
        call_command("import_pv_limits", str(path))
    assert not PvLimit.objects.exists()
