"""Papers for one's own case: the case page lists what is still missing, each with a form that
sends a photo (the phone's camera) or a PDF to the documents vault with the person's own token,
linked to the case: a migrant's for their own records, a family member's for the migrant of a case
their sign-in names (the heirs bring the death certificate). The vault decides who may add what;
the portal only forwards and shows the answer."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from ..signin import require, token
from . import udc_forms as forms
from .me import page_params

bp = Blueprint("papers", __name__)


@bp.post("/cases/<case_id>/papers")
@require("migrant", "family")
def upload(case_id: str):
    doc_type = request.form.get("doc_type", "")
    owner = g.user["migrant_ref"] if g.user["role"] == "migrant" else migrant_of(case_id)
    result = forms.upload(owner, doc_type, case_id)
    if result.get("errors"):
        data = current_app.config["BACKENDS"].casestatus.get(f"/cases/{quote(case_id, safe='')}/timeline", token(),
                                                              page_params())
        return render_template("case.html", data=data, upload_errors=result["errors"]), 422
    return redirect(url_for("me.case", case_id=case_id, uploaded=doc_type))


def migrant_of(case_id: str) -> str:
    """The migrant of a case a family member's sign-in names, as the case's own service tells them."""
    backends = current_app.config["BACKENDS"]
    path = quote(case_id, safe="")
    if case_id.startswith("CMP-"):
        return forms.found(lambda: backends.complaints.get(f"/complaints/{path}", token()))["complainant"][
            "migrant_reference"]
    return forms.found(lambda: backends.claims.get(f"/claims/{path}", token()))["migrant_reference"]
